package portal

import (
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// apiSchemaDoc is openapi.json, parsed, with a small JSON Schema checker:
// type (and type arrays for nullable), required, properties,
// additionalProperties, items, enum, pattern, minimum/maximum, format date-time
// and $ref within the document. Enough for the schemas the API uses.
type apiSchemaDoc struct {
	root map[string]any
}

func apiLoadSchema(t *testing.T) *apiSchemaDoc {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(apiOpenAPIDoc, &root); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return &apiSchemaDoc{root: root}
}

// deref follows $ref ("#/components/...") until it reaches an object
// without one.
func (d *apiSchemaDoc) deref(v any) (map[string]any, error) {
	for i := 0; i < 10; i++ {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("not an object: %v", v)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, nil
		}
		var cur any = d.root
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cm, _ := cur.(map[string]any)
			if cur = cm[part]; cur == nil {
				return nil, fmt.Errorf("$ref %s does not resolve", ref)
			}
		}
		v = cur
	}
	return nil, fmt.Errorf("$ref loop")
}

// validate returns how v (decoded JSON) breaks schema s, at path.
func (d *apiSchemaDoc) validate(path string, s any, v any) []string {
	m, err := d.deref(s)
	if err != nil {
		return []string{path + ": " + err.Error()}
	}
	if t, ok := m["type"]; ok {
		var types []string
		switch t := t.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				types = append(types, x.(string))
			}
		}
		ok := false
		for _, typ := range types {
			ok = ok || apiIsType(typ, v)
		}
		if !ok {
			return []string{fmt.Sprintf("%s: %s is not of type %v", path, apiShort(v), types)}
		}
	}
	var errs []string
	if enum, ok := m["enum"].([]any); ok {
		found := false
		for _, x := range enum {
			found = found || reflect.DeepEqual(x, v)
		}
		if !found {
			errs = append(errs, fmt.Sprintf("%s: %s is not one of %v", path, apiShort(v), enum))
		}
	}
	switch v := v.(type) {
	case string:
		if p, ok := m["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(v) {
			errs = append(errs, fmt.Sprintf("%s: %q does not match %s", path, v, p))
		}
		if m["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil || !strings.HasSuffix(v, "Z") {
				errs = append(errs, fmt.Sprintf("%s: %q is not an RFC 3339 UTC time", path, v))
			}
		}
	case float64:
		if min, ok := m["minimum"].(float64); ok && v < min {
			errs = append(errs, fmt.Sprintf("%s: %v below minimum %v", path, v, min))
		}
		if max, ok := m["maximum"].(float64); ok && v > max {
			errs = append(errs, fmt.Sprintf("%s: %v above maximum %v", path, v, max))
		}
	case []any:
		if items, ok := m["items"]; ok {
			for i, x := range v {
				errs = append(errs, d.validate(path+"["+strconv.Itoa(i)+"]", items, x)...)
			}
		}
	case map[string]any:
		req, _ := m["required"].([]any)
		for _, r := range req {
			if _, ok := v[r.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: required %q missing", path, r))
			}
		}
		props, _ := m["properties"].(map[string]any)
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k]; ok {
				errs = append(errs, d.validate(path+"."+k, ps, v[k])...)
				continue
			}
			switch ap := m["additionalProperties"].(type) {
			case bool:
				if !ap {
					errs = append(errs, fmt.Sprintf("%s: undocumented property %q", path, k))
				}
			case map[string]any:
				errs = append(errs, d.validate(path+"."+k, ap, v[k])...)
			}
		}
	}
	return errs
}

func apiIsType(typ string, v any) bool {
	switch typ {
	case "null":
		return v == nil
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	case "array":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

func apiShort(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		b = append(b[:80], "..."...)
	}
	return string(b)
}

// apiRouteOf returns the route of apiRouteTable that serves req, if any.
func apiRouteOf(req *http.Request) (apiRoute, bool) {
	p := strings.TrimPrefix(req.URL.Path, apiBase)
	for _, rt := range apiRouteTable {
		if rt.Method == req.Method && apiPathMatch(rt.Path, p) {
			return rt, true
		}
	}
	return apiRoute{}, false
}

// conform checks that resp's status is documented for req's route and
// its body matches the documented schema. It returns the route's key, ""
// for a request outside the route table (checked only as a problem).
func (d *apiSchemaDoc) conform(t *testing.T, req *http.Request, resp *http.Response, body []byte) string {
	t.Helper()
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	rt, ok := apiRouteOf(req)
	if !ok {
		if ct != "application/problem+json" {
			t.Errorf("%s %s: off the route table, answered %s", req.Method, req.URL.Path, ct)
		}
		return ""
	}
	key := rt.Method + " " + rt.Path
	paths, _ := d.root["paths"].(map[string]any)
	item, _ := paths[rt.Path].(map[string]any)
	op, _ := item[strings.ToLower(rt.Method)].(map[string]any)
	responses, _ := op["responses"].(map[string]any)
	doc, ok := responses[strconv.Itoa(resp.StatusCode)]
	if !ok {
		t.Errorf("%s: status %d is not documented in openapi.json (body %s)", key, resp.StatusCode, body)
		return key
	}
	r, err := d.deref(doc)
	if err != nil {
		t.Errorf("%s %d: %v", key, resp.StatusCode, err)
		return key
	}
	content, _ := r["content"].(map[string]any)
	if len(content) == 0 {
		if len(body) != 0 {
			t.Errorf("%s %d: documented without a body, answered %s", key, resp.StatusCode, body)
		}
		return key
	}
	media, ok := content[ct].(map[string]any)
	if !ok {
		t.Errorf("%s %d: Content-Type %q is not documented", key, resp.StatusCode, ct)
		return key
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("%s %d: body is not JSON: %v", key, resp.StatusCode, err)
		return key
	}
	for _, e := range d.validate("body", media["schema"], v) {
		t.Errorf("%s %d: %s", key, resp.StatusCode, e)
	}
	return key
}

// TestAPIOpenAPIDocument: openapi.json documents exactly the routes of
// apiRouteTable, every $ref resolves, and every operation documents the
// problems any request may get.
func TestAPIOpenAPIDocument(t *testing.T) {
	d := apiLoadSchema(t)
	if d.root["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", d.root["openapi"])
	}
	paths, _ := d.root["paths"].(map[string]any)
	documented := map[string]bool{}
	for p, item := range paths {
		for m := range item.(map[string]any) {
			if m != "parameters" {
				documented[strings.ToUpper(m)+" "+p] = true
			}
		}
	}
	for _, rt := range apiRouteTable {
		key := rt.Method + " " + rt.Path
		if !documented[key] {
			t.Errorf("route %s is not in openapi.json", key)
		}
		delete(documented, key)
	}
	for key := range documented {
		t.Errorf("openapi.json documents %s, which apiRouteTable does not serve", key)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"]; ok {
				if _, err := d.deref(v); err != nil {
					t.Errorf("%s: $ref %v: %v", path, ref, err)
				}
			}
			for k, x := range v {
				walk(path+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(path+"/"+strconv.Itoa(i), x)
			}
		}
	}
	walk("#", d.root)
	for p, item := range paths {
		for m, op := range item.(map[string]any) {
			if m == "parameters" {
				continue
			}
			rs := op.(map[string]any)["responses"].(map[string]any)
			for _, code := range []string{"401", "403", "500"} {
				if _, ok := rs[code]; !ok {
					t.Errorf("%s %s: status %s not documented", m, p, code)
				}
			}
		}
	}
}

// TestAPISchemaChecker: the checker itself catches what it must.
func TestAPISchemaChecker(t *testing.T) {
	d := apiLoadSchema(t)
	ep := map[string]any{"$ref": "#/components/schemas/Endpoint"}
	tests := []struct {
		name   string
		schema any
		value  string
		bad    bool
	}{
		{"problem ok", map[string]any{"$ref": "#/components/schemas/Problem"}, `{"type":"about:blank","title":"x","status":404}`, false},
		{"problem missing status", map[string]any{"$ref": "#/components/schemas/Problem"}, `{"type":"about:blank","title":"x"}`, true},
		{"problem extra field", map[string]any{"$ref": "#/components/schemas/Problem"}, `{"type":"a","title":"x","status":1,"secret":"s"}`, true},
		{"field error wrong type", map[string]any{"$ref": "#/components/schemas/Problem"}, `{"type":"a","title":"x","status":1,"errors":[{"field":1,"reason":"r"}]}`, true},
		{"endpoint not object", ep, `[]`, true},
		{"integer", map[string]any{"type": "integer"}, `1.5`, true},
		{"nullable", map[string]any{"type": []any{"string", "null"}}, `null`, false},
		{"enum", map[string]any{"enum": []any{"a"}}, `"b"`, true},
		{"pattern", map[string]any{"type": "string", "pattern": "^a+$"}, `"ab"`, true},
		{"pattern matches", map[string]any{"type": "string", "pattern": "^a+$"}, `"aa"`, false},
		{"date-time", map[string]any{"type": "string", "format": "date-time"}, `"yesterday"`, true},
		{"items", map[string]any{"type": "array", "items": map[string]any{"type": "string"}}, `["a",2]`, true},
		{"bad ref", map[string]any{"$ref": "#/components/schemas/Nope"}, `1`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(tt.value), &v); err != nil {
				t.Fatal(err)
			}
			errs := d.validate("v", tt.schema, v)
			if (len(errs) > 0) != tt.bad {
				t.Errorf("errors %v, want bad=%v", errs, tt.bad)
			}
		})
	}
}
