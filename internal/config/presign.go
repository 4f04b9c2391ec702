package config

// Presign is a role's URL-signing policy ([role.presign]).
type Presign struct{}

func (c *Config) validatePresign(p *problems) {}
