package config

// Metadata is one ECS-metadata-compatible listener ([[metadata]]).
type Metadata struct{}

// URI configures the credentials-URI endpoint ([uri]).
type URI struct{}

func (c *Config) validateMetadata(p *problems) {}
