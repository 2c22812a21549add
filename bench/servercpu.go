package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The PostgreSQL server's CPU time, when it runs on this machine and
// /proc shows its processes (scripts/with-postgres.sh's server, as root or
// as its owner): the postmaster's own and its reaped children's time
// (cutime, cstime) plus the time of its live children (backends,
// walwriter, checkpointer, autovacuum). Unlike pg_stat_statements'
// execution time it does not grow when other programs take the CPUs.

// postmasterPID finds the server's postmaster: the parent of this
// connection's backend. 0 when /proc does not show it.
func (p *pg) postmasterPID(ctx context.Context) int {
	var backend int
	if err := p.admin.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		return 0
	}
	f, ok := procStat(backend)
	if !ok {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	if _, ok := procStat(ppid); !ok {
		return 0
	}
	return ppid
}

// serverCPU is the CPU time the server with this postmaster has used so
// far (see above); false when /proc does not show the postmaster.
func serverCPU(postmaster int) (time.Duration, bool) {
	u, ok := serverUsage(postmaster)
	return u.cpu, ok
}

// usage is what a server's processes have used so far: CPU time, and
// minor page faults (a process's first touch of a page of memory,
// shared buffers included; see pageFaultCost).
type usage struct {
	cpu    time.Duration
	faults int64
	// Of those, the live auxiliary processes' (checkpointer, background
	// writer, WAL writer, autovacuum): what no statement ran.
	auxCPU    time.Duration
	auxFaults int64
}

// serverUsage is the usage of the server with this postmaster, counted
// as serverCPU says; false when /proc does not show the postmaster.
func serverUsage(postmaster int) (usage, bool) {
	f, ok := procStat(postmaster)
	if !ok {
		return usage{}, false
	}
	ticks := statTicks(f, 11) + statTicks(f, 12) + statTicks(f, 13) + statTicks(f, 14)
	faults := statTicks(f, 7) + statTicks(f, 8)
	var auxTicks, auxFaults int64
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	want := strconv.Itoa(postmaster)
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == postmaster {
			continue
		}
		if c, ok := procStat(pid); ok && c[1] == want {
			ticks += statTicks(c, 11) + statTicks(c, 12)
			faults += statTicks(c, 7)
			if auxiliary(pid) {
				auxTicks += statTicks(c, 11) + statTicks(c, 12)
				auxFaults += statTicks(c, 7)
			}
		}
	}
	return usage{cpu: time.Duration(ticks) * time.Second / clockTicks, faults: faults,
		auxCPU: time.Duration(auxTicks) * time.Second / clockTicks, auxFaults: auxFaults}, true
}

// auxiliary reports whether the server process pid is one of those that
// run no client's statements, by the title PostgreSQL gives it.
func auxiliary(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	title := string(b)
	for _, name := range []string{"checkpointer", "background writer", "walwriter", "autovacuum"} {
		if strings.Contains(title, name) {
			return true
		}
	}
	return false
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on
// Linux everywhere in practice.
const clockTicks = 100

// procStat is /proc/pid/stat's fields after the command's closing
// parenthesis: [0] state, [1] ppid, … [7] minflt, [8] cminflt, … [11] utime, [12] stime, [13]
// cutime, [14] cstime.
func procStat(pid int) ([]string, bool) {
	if pid <= 0 {
		return nil, false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 15 {
		return nil, false
	}
	return f, true
}

func statTicks(f []string, i int) int64 {
	n, _ := strconv.ParseInt(f[i], 10, 64)
	return n
}
