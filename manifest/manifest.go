package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/slipway-dev/slipway/events"
)

// Version is the only manifest version this package reads.
const Version = 1

// Defaults applied to a service that leaves the field out.
const (
	DefaultDockerfile = "Dockerfile"
	DefaultHealthPath = "/"
)

// Manifest is a valid slipway.yaml.
type Manifest struct {
	// Version is the manifest format version, always Version.
	Version      int
	services     []service
	environments []Environment
	checks       []events.Check
	differs      []string
	provision    []events.ProvisionStep
}

// service is one declared service with the lines Validate reports against.
type service struct {
	spec           events.ServiceSpec
	nameNode       *yaml.Node
	contextLine    int
	dockerfileLine int
}

// Services returns the services in declaration order, with defaults applied.
// The slice and its maps are copies: callers may modify them.
func (m *Manifest) Services() []events.ServiceSpec {
	out := make([]events.ServiceSpec, len(m.services))
	for i, s := range m.services {
		out[i] = s.spec
		if s.spec.Env != nil {
			out[i].Env = make(map[string]string, len(s.spec.Env))
			for k, v := range s.spec.Env {
				out[i].Env[k] = v
			}
		}
		out[i].Secrets = slices.Clone(s.spec.Secrets)
		out[i].Tasks = copyTasks(s.spec.Tasks)
		out[i].Inputs = slices.Clone(s.spec.Inputs)
	}
	return out
}

// Names returns the service names in declaration order.
func (m *Manifest) Names() []string {
	out := make([]string, len(m.services))
	for i, s := range m.services {
		out[i] = s.spec.Name
	}
	return out
}

// MaxSize is the largest slipway.yaml Parse reads.
const MaxSize = 1 << 20

// Parse decodes and validates the content of a slipway.yaml. The error, if
// any, is events.Permanent and joins one *FieldError per problem found (at
// most 20, then a count of the rest).
func Parse(data []byte) (*Manifest, error) {
	if len(data) > MaxSize {
		return nil, events.Permanent(&FieldError{Msg: fmt.Sprintf("file is %d bytes, more than the limit of %d", len(data), MaxSize)})
	}
	root, err := parseDocument(data)
	if err != nil {
		return nil, events.Permanent(err)
	}
	d := &decoder{}
	m := d.manifest(root)
	if err := d.err(); err != nil {
		return nil, events.Permanent(err)
	}
	return m, nil
}

// syntaxLine extracts the line from the YAML parser's messages.
var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseDocument returns the root node of the single YAML document in data.
func parseDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FieldError{Msg: "file is empty"}
		}
		return nil, syntaxError(err)
	}
	if len(doc.Content) == 0 {
		return nil, &FieldError{Msg: "file is empty"}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, syntaxError(err)
		}
		return nil, &FieldError{Line: extra.Line, Msg: "only one YAML document is allowed"}
	}
	return doc.Content[0], nil
}

// syntaxError turns a YAML parser error into a FieldError with its line.
func syntaxError(err error) error {
	m := syntaxLine.FindStringSubmatch(err.Error())
	if m == nil {
		return &FieldError{Msg: "invalid YAML: " + err.Error()}
	}
	line, _ := strconv.Atoi(m[1])
	return &FieldError{Line: line, Msg: "invalid YAML: " + m[2]}
}
