// Package deploy holds no code: it is where the container image
// (Containerfile) and the Kubernetes examples (kubernetes/) live, with the
// test that checks them against the code: the config in each ConfigMap
// parses, paths and ports agree, and every container is locked down.
package deploy
