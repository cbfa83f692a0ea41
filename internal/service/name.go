package service

import "strings"

// maxNameStem bounds the part of a service name taken from the config file,
// keeping unit names, Windows service names and log directory names short.
const maxNameStem = 40

// Name derives a service name from a config file's path: "pingerplot-"
// and the file's base name without its extension, lower-cased, with every
// run of characters other than a-z and 0-9 turned into one "-". So
// /etc/pingerplot/monitor.json runs as "pingerplot-monitor", and several
// configs can run side by side as several services. The result is valid
// as a systemd unit name, a Windows service name and a directory name.
// Both / and \ separate directories, whatever the OS, so a Windows path
// gives the same name when tested elsewhere.
func Name(configPath string) string {
	base := configPath
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(base) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	stem := b.String()
	if len(stem) > maxNameStem {
		stem = strings.TrimRight(stem[:maxNameStem], "-")
	}
	switch {
	case stem == "" || stem == "pingerplot":
		return "pingerplot"
	case strings.HasPrefix(stem, "pingerplot-"):
		return stem
	}
	return "pingerplot-" + stem
}
