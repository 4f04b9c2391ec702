package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"gopkg.in/yaml.v3"
)

// The subset of Kubernetes objects the checks read.
type object struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   meta              `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Template struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		podSpec `yaml:",inline"` // kind Pod
	} `yaml:"spec"`
}

type meta struct {
	Name      string `yaml:"name"`
	Namespace string `yaml:"namespace"`
}

type podSpec struct {
	SecurityContext struct {
		RunAsUser          *int64   `yaml:"runAsUser"`
		RunAsNonRoot       *bool    `yaml:"runAsNonRoot"`
		SupplementalGroups []int64  `yaml:"supplementalGroups"`
		Sysctls            []sysctl `yaml:"sysctls"`
	} `yaml:"securityContext"`
	InitContainers []container `yaml:"initContainers"`
	Containers     []container `yaml:"containers"`
	Volumes        []volume    `yaml:"volumes"`
}

type sysctl struct{ Name, Value string }

type container struct {
	Name          string   `yaml:"name"`
	Image         string   `yaml:"image"`
	Command       []string `yaml:"command"`
	Args          []string `yaml:"args"`
	RestartPolicy string   `yaml:"restartPolicy"`
	Env           []envVar `yaml:"env"`
	Ports         []struct {
		ContainerPort int    `yaml:"containerPort"`
		Protocol      string `yaml:"protocol"`
	} `yaml:"ports"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
	StartupProbe    *probe  `yaml:"startupProbe"`
	LivenessProbe   *probe  `yaml:"livenessProbe"`
	ReadinessProbe  *probe  `yaml:"readinessProbe"`
	SecurityContext *secCtx `yaml:"securityContext"`
}

type envVar struct {
	Name      string `yaml:"name"`
	Value     string `yaml:"value"`
	ValueFrom *struct {
		SecretKeyRef *struct{ Name, Key string } `yaml:"secretKeyRef"`
	} `yaml:"valueFrom"`
}

type probe struct {
	Exec *struct {
		Command []string `yaml:"command"`
	} `yaml:"exec"`
}

type secCtx struct {
	RunAsUser                *int64 `yaml:"runAsUser"`
	RunAsGroup               *int64 `yaml:"runAsGroup"`
	RunAsNonRoot             *bool  `yaml:"runAsNonRoot"`
	AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   *bool  `yaml:"readOnlyRootFilesystem"`
	Capabilities             *struct {
		Add  []string `yaml:"add"`
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
}

type volume struct {
	Name      string `yaml:"name"`
	ConfigMap *struct {
		Name string `yaml:"name"`
	} `yaml:"configMap"`
	EmptyDir *struct {
		Medium string `yaml:"medium"`
	} `yaml:"emptyDir"`
	HostPath *struct {
		Path string `yaml:"path"`
		Type string `yaml:"type"`
	} `yaml:"hostPath"`
}

// load decodes every document of a multi-document YAML file.
func load(t *testing.T, path string) []object {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []object
	for {
		var o object
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: document %d: %v", path, len(out)+1, err)
		}
		if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
			t.Fatalf("%s: document %d lacks apiVersion, kind or metadata.name", path, len(out)+1)
		}
		out = append(out, o)
	}
}

// find returns the object of kind called name.
func find(t *testing.T, objs []object, kind, name string) *object {
	t.Helper()
	for i := range objs {
		if objs[i].Kind == kind && objs[i].Metadata.Name == name {
			return &objs[i]
		}
	}
	t.Fatalf("no %s %q", kind, name)
	return nil
}

// pod returns the pod spec of a workload or Pod.
func (o *object) pod() *podSpec {
	if o.Kind == "Pod" {
		return &o.Spec.podSpec
	}
	return &o.Spec.Template.Spec
}

// container returns the container (or init container) called name.
func (p *podSpec) container(t *testing.T, name string) *container {
	t.Helper()
	for _, cs := range [][]container{p.InitContainers, p.Containers} {
		for i := range cs {
			if cs[i].Name == name {
				return &cs[i]
			}
		}
	}
	t.Fatalf("no container %q", name)
	return nil
}

func (p *podSpec) volume(t *testing.T, name string) *volume {
	t.Helper()
	for i := range p.Volumes {
		if p.Volumes[i].Name == name {
			return &p.Volumes[i]
		}
	}
	t.Fatalf("no volume %q", name)
	return nil
}

// mountOf returns the volume mounted at path in c, and whether it is
// read-only.
func (p *podSpec) mountOf(t *testing.T, c *container, path string) (*volume, bool) {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return p.volume(t, m.Name), m.ReadOnly
		}
	}
	t.Fatalf("container %s mounts nothing at %s", c.Name, path)
	return nil, false
}
