package credproc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ErrBadCLIConfig is returned for an aliyun CLI config.json that SetProfile
// cannot edit without losing something. Its messages never quote the file,
// which may hold secrets.
var ErrBadCLIConfig = errors.New("aliyun CLI config is not in the expected shape")

// Field is one key of a profile and the value to give it.
type Field struct {
	Key   string
	Value any // encoded with encoding/json
}

// ProfileEdit describes a change to one profile of an aliyun CLI
// config.json.
type ProfileEdit struct {
	Name string
	// Set fields are written into the profile, replacing existing values
	// in place; new keys go at the end.
	Set []Field
	// NewOnly fields are written only when the profile is created.
	NewOnly []Field
	// MakeCurrent makes the profile the config's current one. A config that
	// did not exist yet always gets the new profile as current.
	MakeCurrent bool
}

// EditResult reports what SetProfile did.
type EditResult struct {
	Created bool // the profile did not exist before
	before  object
}

// Before returns the JSON value of key in the profile before the edit.
func (r EditResult) Before(key string) (json.RawMessage, bool) { return r.before.get(key) }

// SetProfile applies e to the aliyun CLI config.json in data (which may be
// empty, for a config that does not exist yet) and returns the new file. Every
// other profile, every other top-level key and every other key of the edited
// profile keeps its value and position, known to the CLI or not.
func SetProfile(data []byte, e ProfileEdit) ([]byte, EditResult, error) {
	fresh := len(bytes.TrimSpace(data)) == 0
	root, profiles, err := parseRoot(data, fresh)
	if err != nil {
		return nil, EditResult{}, err
	}
	i, p, res, err := editProfile(profiles, e)
	if err != nil {
		return nil, EditResult{}, err
	}
	if err := root.setProfiles(profiles, i, p); err != nil {
		return nil, EditResult{}, err
	}
	if fresh || e.MakeCurrent {
		if err := root.set("current", e.Name); err != nil {
			return nil, EditResult{}, err
		}
	}
	if fresh {
		if err := root.set("meta_path", ""); err != nil {
			return nil, EditResult{}, err
		}
	}
	out, err := root.indent()
	return out, res, err
}

// parseRoot decodes the top level of a config and its profile list. A fresh
// config starts in the CLI's own key order: current, profiles, meta_path.
func parseRoot(data []byte, fresh bool) (object, []json.RawMessage, error) {
	if fresh {
		return object{{"current", json.RawMessage(`""`)}}, nil, nil
	}
	root, err := parseObject(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBadCLIConfig, err)
	}
	var profiles []json.RawMessage
	if raw, ok := root.get("profiles"); ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &profiles); err != nil {
			return nil, nil, fmt.Errorf("%w: \"profiles\" is not a list", ErrBadCLIConfig)
		}
	}
	return root, profiles, nil
}

// editProfile returns the index of e's profile (-1 for a new one) and the
// profile with e applied.
func editProfile(profiles []json.RawMessage, e ProfileEdit) (int, object, EditResult, error) {
	i, err := findProfile(profiles, e.Name)
	if err != nil {
		return 0, nil, EditResult{}, err
	}
	var res EditResult
	p := object{}
	if i < 0 {
		res.Created = true
		err = p.setAll(slices.Concat([]Field{{Key: "name", Value: e.Name}}, e.Set, e.NewOnly))
		return i, p, res, err
	}
	if p, err = parseObject(profiles[i]); err != nil {
		return 0, nil, EditResult{}, fmt.Errorf("%w: profile %q: %w", ErrBadCLIConfig, e.Name, err)
	}
	res.before = append(object(nil), p...)
	err = p.setAll(e.Set)
	return i, p, res, err
}

// findProfile returns the index of the profile called name, or -1.
func findProfile(profiles []json.RawMessage, name string) (int, error) {
	found := -1
	for i, raw := range profiles {
		var v struct {
			Name *string `json:"name"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return 0, fmt.Errorf("%w: profile #%d is not an object with a string \"name\"", ErrBadCLIConfig, i+1)
		}
		if v.Name != nil && *v.Name == name {
			if found >= 0 {
				return 0, fmt.Errorf("%w: there are two profiles called %q; remove one first", ErrBadCLIConfig, name)
			}
			found = i
		}
	}
	return found, nil
}

// setProfiles stores p as profile i (appending it when i < 0).
func (o *object) setProfiles(profiles []json.RawMessage, i int, p object) error {
	raw, err := p.marshal()
	if err != nil {
		return err
	}
	if i < 0 {
		profiles = append(profiles, raw)
	} else {
		profiles[i] = raw
	}
	return o.set("profiles", profiles)
}

// object is a JSON object that keeps its keys in order and its values as
// they were written.
type object []member

type member struct {
	Key   string
	Value json.RawMessage
}

// parseObject decodes one JSON object and nothing after it.
func parseObject(b []byte) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object" + offset(dec, err))
	}
	o := object{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, errors.New("invalid JSON" + offset(dec, err))
		}
		key, _ := t.(string) // inside an object, a token before a value is its key
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, errors.New("invalid JSON" + offset(dec, err))
		}
		o = append(o, member{key, raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, errors.New("invalid JSON" + offset(dec, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object" + offset(dec, nil))
	}
	return o, nil
}

func offset(dec *json.Decoder, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf(" at byte %d", se.Offset)
	}
	return fmt.Sprintf(" near byte %d", dec.InputOffset())
}

// get returns the value of the last member called key, ignoring case,
// which is the one encoding/json (and so the CLI) would use.
func (o object) get(key string) (json.RawMessage, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if strings.EqualFold(o[i].Key, key) {
			return o[i].Value, true
		}
	}
	return nil, false
}

// set gives every member called key, ignoring case as encoding/json and so
// the CLI do, the value v, or appends one.
func (o *object) set(key string, v any) error {
	raw, err := encode(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	found := false
	for i := range *o {
		if strings.EqualFold((*o)[i].Key, key) {
			(*o)[i].Value, found = raw, true
		}
	}
	if !found {
		*o = append(*o, member{key, raw})
	}
	return nil
}

func (o *object) setAll(fields []Field) error {
	for _, f := range fields {
		if err := o.set(f.Key, f.Value); err != nil {
			return err
		}
	}
	return nil
}

// encode marshals v without HTML escaping: a credentials URI keeps its &.
func encode(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(b.Bytes()), nil
}

// marshal writes o compactly, values as they are.
func (o object) marshal() (json.RawMessage, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := encode(m.Key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.Value)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// indent renders o as the aliyun CLI writes its config: tab-indented, with
// a final newline.
func (o object) indent() ([]byte, error) {
	raw, err := o.marshal()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "\t"); err != nil {
		return nil, fmt.Errorf("render config: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
