package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// errHelp reports that help was asked for and printed; ossd exits 0.
var errHelp = errors.New("help requested")

// usageError is a command-line mistake; it exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// helpText renders a subcommand's usage: its synopsis (the usage line,
// naming its flags), what it does, and each flag with its default.
func helpText(fs *flag.FlagSet, synopsis, about string) string {
	var b strings.Builder
	b.WriteString("usage: " + synopsis + "\n")
	if about != "" {
		b.WriteString("\n" + strings.TrimSpace(about) + "\n")
	}
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		b.WriteString("\nflags:\n")
		out := fs.Output()
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(out)
	}
	return b.String()
}

// parseArgs parses args into fs and returns the positional arguments.
// Flags may come before, between or after them; everything after "--" is
// positional. -h, -help or --help prints the usage to stdout and returns
// errHelp; any other mistake is a usageError carrying the usage.
func parseArgs(fs *flag.FlagSet, args []string, synopsis, about string, stdout io.Writer) ([]string, error) {
	fs.SetOutput(io.Discard) // ossd prints usage itself: help to stdout, errors to stderr
	fs.Usage = func() {}
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, helpText(fs, synopsis, about))
			return nil, errHelp
		}
		if err != nil {
			return nil, usageError{fmt.Sprintf("%s: %v\n%s", fs.Name(), err, helpText(fs, synopsis, about))}
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// wantArgs returns a usageError unless pos has exactly n arguments.
func wantArgs(fs *flag.FlagSet, pos []string, n int, synopsis string) error {
	switch {
	case len(pos) > n:
		return usageError{fmt.Sprintf("%s: unexpected argument %q\nusage: %s", fs.Name(), pos[n], synopsis)}
	case len(pos) < n:
		return usageError{fmt.Sprintf("%s: missing argument\nusage: %s", fs.Name(), synopsis)}
	}
	return nil
}
