# Build and install tftpd, dhcpd-pxe and pxecfg with their systemd units,
# settings files, man pages, completions and examples; docs/install.md.
#
#   make                      release binaries + generated man pages/completions
#   make install              into $(DESTDIR)$(PREFIX) (default /usr/local)
#   make uninstall            remove what install put there (edited settings stay)
#   make deb                  the Debian package (cargo deb), target/debian/*.deb
#
# This file is the one list of installed files: `make deb` installs with
# PREFIX=/usr into a staging root that cargo-deb packages whole.

PREFIX      ?= /usr/local
SYSCONFDIR  ?= /etc
SBINDIR     ?= $(PREFIX)/sbin
BINDIR      ?= $(PREFIX)/bin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
DOCDIR      ?= $(DATADIR)/doc/netboot
UNITDIR     ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
ifeq ($(PREFIX),/usr)
ZSHCOMPDIR  ?= $(DATADIR)/zsh/vendor-completions
else
ZSHCOMPDIR  ?= $(DATADIR)/zsh/site-functions
endif

CARGO      ?= cargo
TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)
RELEASE    := $(TARGET_DIR)/release
ASSETS     := $(RELEASE)/assets
DEB_ROOT   := $(RELEASE)/deb-root

INSTALL      ?= install
INSTALL_BIN  := $(INSTALL) -m 0755
INSTALL_DATA := $(INSTALL) -m 0644

BINARIES := tftpd dhcpd-pxe pxecfg
UNITS    := tftpd.service tftpd.socket dhcpd-pxe.service
EXAMPLES := $(wildcard bins/dhcpd-pxe/examples/*.toml) docs/examples/xinetd-tftp
# Settings files: installed when absent, removed by uninstall only when unedited.
SETTINGS := packaging/default/tftpd:default/tftpd packaging/etc/dhcpd-pxe.toml:netboot/dhcpd-pxe.toml

# Installed binaries are stripped, without debug info (the workspace's
# release profile keeps line tables for profiling).
export CARGO_PROFILE_RELEASE_DEBUG = false
export CARGO_PROFILE_RELEASE_STRIP = true

.PHONY: all build assets install uninstall deb clean-staging

all: build assets

build:
	$(CARGO) build --release --locked $(addprefix -p ,$(BINARIES))

# The man pages and completions come from the clap definitions (packaging/gen).
assets:
	$(CARGO) run --locked -p netboot-gen -- $(ASSETS)

install:
	@for f in $(addprefix $(RELEASE)/,$(BINARIES)) $(ASSETS)/man/man8/tftpd.8; do \
	    [ -e "$$f" ] || { echo "missing $$f: run 'make' first" >&2; exit 1; }; done
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/default $(DESTDIR)$(SYSCONFDIR)/netboot \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR) \
	    $(DESTDIR)$(DOCDIR)/examples
	$(INSTALL_BIN) $(RELEASE)/tftpd $(RELEASE)/dhcpd-pxe $(DESTDIR)$(SBINDIR)/
	$(INSTALL_BIN) $(RELEASE)/pxecfg $(DESTDIR)$(BINDIR)/
	@# The units name /usr/sbin and /etc; point them at this install's directories.
	for u in $(UNITS); do \
	    sed -e 's|/usr/sbin/|$(SBINDIR)/|g' -e 's|/etc/|$(SYSCONFDIR)/|g' packaging/systemd/$$u \
	        > $(DESTDIR)$(UNITDIR)/$$u && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u; done
	for pair in $(SETTINGS); do \
	    dest=$(DESTDIR)$(SYSCONFDIR)/$${pair#*:}; \
	    [ -e "$$dest" ] || $(INSTALL_DATA) $${pair%%:*} "$$dest"; done
	$(INSTALL_DATA) $(ASSETS)/man/man1/* $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL_DATA) $(ASSETS)/man/man5/* $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL_DATA) $(ASSETS)/man/man8/* $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL_DATA) $(ASSETS)/completions/bash/* $(DESTDIR)$(BASHCOMPDIR)/
	$(INSTALL_DATA) $(ASSETS)/completions/zsh/* $(DESTDIR)$(ZSHCOMPDIR)/
	$(INSTALL_DATA) $(ASSETS)/completions/fish/* $(DESTDIR)$(FISHCOMPDIR)/
	$(INSTALL_DATA) README.md docs/install.md $(DESTDIR)$(DOCDIR)/
	$(INSTALL_DATA) $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,tftpd dhcpd-pxe) $(DESTDIR)$(BINDIR)/pxecfg
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))
	rm -f $(DESTDIR)$(MANDIR)/man1/pxecfg.1 $(DESTDIR)$(MANDIR)/man1/pxecfg-*.1 \
	    $(DESTDIR)$(MANDIR)/man5/dhcpd-pxe.toml.5 \
	    $(DESTDIR)$(MANDIR)/man8/tftpd.8 $(DESTDIR)$(MANDIR)/man8/dhcpd-pxe.8 \
	    $(DESTDIR)$(MANDIR)/man8/dhcpd-pxe-*.8
	for b in $(BINARIES); do rm -f $(DESTDIR)$(BASHCOMPDIR)/$$b \
	    $(DESTDIR)$(ZSHCOMPDIR)/_$$b $(DESTDIR)$(FISHCOMPDIR)/$$b.fish; done
	rm -rf $(DESTDIR)$(DOCDIR)
	for pair in $(SETTINGS); do \
	    dest=$(DESTDIR)$(SYSCONFDIR)/$${pair#*:}; \
	    if cmp -s $${pair%%:*} "$$dest"; then rm -f "$$dest"; \
	    elif [ -e "$$dest" ]; then echo "kept $$dest (edited)"; fi; done
	-rmdir $(DESTDIR)$(SYSCONFDIR)/netboot 2>/dev/null

deb: all clean-staging
	$(MAKE) install DESTDIR=$(abspath $(DEB_ROOT)) PREFIX=/usr SYSCONFDIR=/etc
	gzip -9n $(DEB_ROOT)/usr/share/man/man*/*
	$(CARGO) deb -p netboot-gen --no-build --no-strip

clean-staging:
	rm -rf $(DEB_ROOT)
