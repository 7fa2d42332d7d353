package audit

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// errDiffTypes is returned by [Diff] when old and new are not two structs
// of one type or two maps with string keys.
var errDiffTypes = errors.New("audit: Diff needs two structs of one type or two string-keyed maps")

// Diff returns the fields that differ between old and new, in field order
// for structs and key order for maps, with values rendered as strings. Either
// side may be nil (a creation or a deletion): its fields read as empty.
// Pointers are followed.
//
// Struct fields are read when exported; nested structs are flattened with
// dotted names (address.city). The struct tag `audit:"..."` controls a field:
//
//	Name     string `audit:"name"`            // record under another name
//	Password string `audit:"-"`               // never recorded, not even that it changed
//	IBAN     string `audit:"iban,redact"`     // recorded as changed, values [REDACTED]
//	Notes    string `audit:",redact"`
//
// Fields with sensitive names are redacted again by the [Log]'s redactor, so
// a forgotten tag does not leak a password. Tags and sensitive names also
// hold inside slices, maps and structs rendered as one value. Nested
// structs are followed to a depth of 16 and at most 4096 of them, so
// self-referential types and pointer cycles cost bounded work.
func Diff(oldV, newV any) ([]Change, error) {
	o, n := deref(reflect.ValueOf(oldV)), deref(reflect.ValueOf(newV))
	if !o.IsValid() && !n.IsValid() {
		return nil, nil
	}
	if o.IsValid() && n.IsValid() && o.Type() != n.Type() {
		return nil, errDiffTypes
	}
	t := o
	if !t.IsValid() {
		t = n
	}
	var out []Change
	switch t.Kind() {
	case reflect.Struct:
		budget := maxDiffStructs
		diffStruct(&out, "", t.Type(), o, n, 0, &budget)
	case reflect.Map:
		if t.Type().Key().Kind() != reflect.String {
			return nil, errDiffTypes
		}
		diffMap(&out, o, n)
	default:
		return nil, errDiffTypes
	}
	return out, nil
}

func deref(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

var timeType = reflect.TypeFor[time.Time]()

// maxDiffStructs bounds how many nested structs one Diff visits, so a
// pointer cycle through several fields costs bounded work.
const maxDiffStructs = 4096

// diffStruct flattens nested structs. It stops where both sides are
// absent (a nil pointer: nothing to compare, and a self-referential type
// would otherwise recurse forever), at maxRenderDepth and when the budget
// of structs is spent (pointer cycles).
func diffStruct(out *[]Change, prefix string, t reflect.Type, o, n reflect.Value, depth int, budget *int) {
	if (!o.IsValid() && !n.IsValid()) || depth > maxRenderDepth || *budget <= 0 {
		return
	}
	*budget--
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, redact, skip := parseAuditTag(f)
		if skip {
			continue
		}
		name = prefix + name
		fo, fn := field(o, i), field(n, i)
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != timeType && !ft.Implements(stringerType) &&
			!reflect.PointerTo(ft).Implements(stringerType) {
			diffStruct(out, name+".", ft, deref(fo), deref(fn), depth+1, budget)
			continue
		}
		if absentOrZero(fo) && absentOrZero(fn) {
			continue // creation or deletion: leave out fields that were never set
		}
		addChange(out, name, render(fo), render(fn), redact)
	}
}

func absentOrZero(v reflect.Value) bool {
	return !v.IsValid() || v.IsZero()
}

var stringerType = reflect.TypeFor[fmt.Stringer]()

func field(v reflect.Value, i int) reflect.Value {
	if !v.IsValid() {
		return reflect.Value{}
	}
	return v.Field(i)
}

func parseAuditTag(f reflect.StructField) (name string, redact, skip bool) {
	tag := f.Tag.Get("audit")
	if tag == "-" {
		return "", false, true
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = lowerFirst(f.Name)
	}
	for o := range strings.SplitSeq(opts, ",") {
		if o == "redact" {
			redact = true
		}
	}
	return name, redact, false
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func diffMap(out *[]Change, o, n reflect.Value) {
	keys := map[string]reflect.Value{}
	for _, m := range []reflect.Value{o, n} {
		if m.IsValid() {
			for _, k := range m.MapKeys() {
				keys[k.String()] = k
			}
		}
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		key := keys[k]
		var vo, vn reflect.Value
		if o.IsValid() {
			vo = o.MapIndex(key)
		}
		if n.IsValid() {
			vn = n.MapIndex(key)
		}
		addChange(out, k, render(vo), render(vn), false)
	}
}

func addChange(out *[]Change, name, o, n string, redact bool) {
	if o == n {
		return
	}
	if redact {
		o, n = redactedMarker, redactedMarker
	}
	*out = append(*out, Change{Field: name, Old: o, New: n, Redacted: redact})
}

func render(v reflect.Value) string {
	v = deref(v)
	if !v.IsValid() {
		return ""
	}
	if (v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.Len() == 0 {
		return ""
	}
	if v.CanInterface() {
		switch x := v.Interface().(type) {
		case time.Time:
			if x.IsZero() {
				return ""
			}
			return x.UTC().Format(time.RFC3339Nano)
		case []byte:
			return fmt.Sprintf("%x", x)
		case fmt.Stringer:
			return x.String()
		}
	}
	var b strings.Builder
	renderNested(&b, v, 0)
	return b.String()
}

// maxRenderDepth bounds how deep renderNested follows nested values, and
// maxRenderBytes how much it writes: a pointer cycle through several
// fields would otherwise cost time exponential in the depth. The log keeps
// 4 KiB of a value anyway.
const (
	maxRenderDepth = 16
	maxRenderBytes = 64 << 10
)

// renderNested writes v like fmt.Sprint does, but walks slices, arrays,
// maps and structs itself so that audit tags and sensitive names hold at
// any depth: a struct field tagged audit:"-" is left out, one tagged
// redact, and any field or map key with a sensitive name (see DefaultRedactor),
// is written as [REDACTED]. fmt.Sprint would print them all.
func renderNested(b *strings.Builder, v reflect.Value, depth int) {
	v = deref(v)
	if !v.IsValid() {
		b.WriteString("<nil>")
		return
	}
	if depth > maxRenderDepth || b.Len() > maxRenderBytes {
		b.WriteString("...")
		return
	}
	if v.CanInterface() {
		switch x := v.Interface().(type) {
		case time.Time:
			b.WriteString(x.UTC().Format(time.RFC3339Nano))
			return
		case []byte:
			fmt.Fprintf(b, "%x", x)
			return
		case fmt.Stringer:
			b.WriteString(x.String())
			return
		}
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				b.WriteByte(' ')
			}
			renderNested(b, v.Index(i), depth+1)
		}
		b.WriteByte(']')
	case reflect.Map:
		keys := v.MapKeys()
		names := make([]string, len(keys))
		for i, k := range keys {
			if k.CanInterface() {
				names[i] = fmt.Sprint(k.Interface())
			} else {
				names[i] = fmt.Sprint(k)
			}
		}
		order := make([]int, len(keys))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(i, j int) int { return strings.Compare(names[i], names[j]) })
		b.WriteString("map[")
		for n, i := range order {
			if n > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(names[i] + ":")
			if sensitiveField(names[i]) {
				b.WriteString(redactedMarker)
				continue
			}
			renderNested(b, v.MapIndex(keys[i]), depth+1)
		}
		b.WriteByte(']')
	case reflect.Struct:
		b.WriteByte('{')
		first := true
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name, redact, skip := parseAuditTag(f)
			if skip {
				continue
			}
			if !first {
				b.WriteByte(' ')
			}
			first = false
			b.WriteString(name + ":")
			if redact || sensitiveField(name) || sensitiveField(f.Name) {
				b.WriteString(redactedMarker)
				continue
			}
			renderNested(b, v.Field(i), depth+1)
		}
		b.WriteByte('}')
	default:
		if v.CanInterface() {
			fmt.Fprint(b, v.Interface())
		} else {
			fmt.Fprint(b, v)
		}
	}
}
