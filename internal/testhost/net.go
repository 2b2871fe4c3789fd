package testhost

import (
	"fmt"
	"os/exec"
	"strings"
)

// Prefix starts the name of every namespace and link the harness creates.
const Prefix = "swt-"

// RegistryIP is the address of the registry forwarder, on the dummy link
// RegistryLink of the root namespace.
const RegistryIP = "10.231.255.1"

// RegistryLink is the link holding RegistryIP: one end of a veth pair
// whose other end is RegistryLink+"-p" (the kernel here may have no dummy
// links).
const RegistryLink = Prefix + "reg"

// hostIP returns the address of host i inside its namespace.
func hostIP(i int) string { return fmt.Sprintf("10.231.%d.2", i) }

// gatewayIP returns the address of the root end of host i's veth.
func gatewayIP(i int) string { return fmt.Sprintf("10.231.%d.1", i) }

// bridgeIP returns the Docker bridge address (with its prefix) inside host i.
func bridgeIP(i int) string { return fmt.Sprintf("10.231.%d.1/24", 100+i) }

// nsName returns the name of host i's network namespace.
func nsName(i int) string { return fmt.Sprintf("%sh%d", Prefix, i) }

// vethName returns the root end of host i's veth.
func vethName(i int) string { return fmt.Sprintf("%sh%d-r", Prefix, i) }

// ip runs the ip command with args.
func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// addNamespace creates host i's namespace and its veth pair, with the
// addresses and the two routes a host has.
func addNamespace(i int) error {
	ns, veth := nsName(i), vethName(i)
	steps := [][]string{
		{"netns", "add", ns},
		{"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"addr", "add", gatewayIP(i) + "/24", "dev", veth},
		{"link", "set", veth, "up"},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "addr", "add", hostIP(i) + "/24", "dev", "eth0"},
		{"-n", ns, "link", "set", "eth0", "up"},
		{"-n", ns, "route", "add", RegistryIP + "/32", "via", gatewayIP(i)},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			return err
		}
	}
	return nil
}

// addRegistryLink creates the link holding RegistryIP.
func addRegistryLink() error {
	for _, s := range [][]string{
		{"link", "add", RegistryLink, "type", "veth", "peer", "name", RegistryLink + "-p"},
		{"addr", "add", RegistryIP + "/32", "dev", RegistryLink},
		{"link", "set", RegistryLink + "-p", "up"},
		{"link", "set", RegistryLink, "up"},
	} {
		if err := ip(s...); err != nil {
			return err
		}
	}
	return nil
}

// namespaces returns the harness's network namespaces that exist.
func namespaces() []string {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return nil
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasPrefix(f[0], Prefix) {
			names = append(names, f[0])
		}
	}
	return names
}

// links returns the harness's links of the root namespace.
func links() []string {
	out, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		return nil
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		if strings.HasPrefix(name, Prefix) {
			names = append(names, name)
		}
	}
	return names
}

// namespacePids returns the processes running in namespace ns.
func namespacePids(ns string) []string {
	out, err := exec.Command("ip", "netns", "pids", ns).Output()
	if err != nil {
		return nil
	}
	return strings.Fields(string(out))
}
