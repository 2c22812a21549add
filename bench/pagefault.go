package main

import (
	"syscall"
	"time"
)

// pageFaultCost is what a process's first write to a page of memory
// shared with others costs here, in µs: the median of three rounds of
// mapping 16 MiB of shared anonymous memory and writing a byte to each
// of its 4 KiB pages. Page faults are the price of a working set that
// moves: a PostgreSQL backend that touches a buffer it has not touched
// before, or a Go heap that grows. On bare metal a fault costs well under
// a microsecond; in a virtual machine with shadow page tables it can cost
// tens. -1 when the memory cannot be mapped.
func pageFaultCost() float64 {
	const pages = 4096
	var us []float64
	for range 3 {
		b, err := syscall.Mmap(-1, 0, pages*4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_ANON)
		if err != nil {
			return -1
		}
		t := time.Now()
		for i := 0; i < pages; i++ {
			b[i*4096] = 1
		}
		us = append(us, micros(time.Since(t))/pages)
		if err := syscall.Munmap(b); err != nil {
			return -1
		}
	}
	return median(us)
}
