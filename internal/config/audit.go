package config

// Audit configures the audit log ([audit]).
type Audit struct{}

func (a Audit) validate(p *problems) {}
