# ossd: build, install and package.
#
#   make build      static binaries (CGO_ENABLED=0) in ./bin
#   make install    binaries, systemd units, sysusers.d and tmpfiles.d
#                   entries and /etc/ossd/ossd.toml.example; honours
#                   DESTDIR and PREFIX (default /usr/local)
#   make deb        a Debian package in ./bin, built with dpkg-deb
#   make test       the test suite, naming the groups of tests it skipped

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
SYSCONFDIR ?= /etc
DESTDIR    ?=
GO         ?= go
SHELL      := /bin/bash

BINARIES := bin/ossd bin/ossd-credential-process
UNITS    := systemd/ossd.service systemd/ossd.socket systemd/ossd-metadata.socket

.PHONY: build install deb test clean FORCE

build: $(BINARIES)

# Always rebuilt: go build knows what changed. -buildvcs=auto stamps the
# revision when built from a git checkout, whatever GOFLAGS says.
bin/%: FORCE
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=auto -o $@ ./cmd/$*

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSCONFDIR)/ossd
	install -m 0755 $(BINARIES) $(DESTDIR)$(BINDIR)/
	for u in $(UNITS); do \
		sed 's|/usr/bin/ossd |$(BINDIR)/ossd |' $$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u) && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; \
	done
	install -m 0644 systemd/ossd.sysusers $(DESTDIR)$(SYSUSERSDIR)/ossd.conf
	install -m 0644 systemd/ossd.tmpfiles $(DESTDIR)$(TMPFILESDIR)/ossd.conf
	install -m 0644 packaging/ossd.toml.example $(DESTDIR)$(SYSCONFDIR)/ossd/ossd.toml.example

deb:
	packaging/deb/build.sh bin

# go test -json through skipreport: plain `go test ./...` hides the lines
# naming skipped test groups (internal/needs) for packages that pass.
test:
	set -o pipefail; $(GO) test -race -count=1 -json ./... | $(GO) run ./internal/needs/skipreport

clean:
	rm -rf bin
