package testhost

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Directories the harness keeps its hosts' files in: runDir for sockets,
// pid files, configurations and keys (short paths: unix sockets live here),
// dataDir for the daemons' data roots.
const (
	runDir  = "/run/swt"
	dataDir = "/var/lib/slipway/testhost"
)

// removeAll removes every namespace, link, process, cgroup and directory a
// harness made, its own or a killed run's. It is best effort: what cannot be
// removed is reported by the next step that needs it.
func removeAll() {
	for _, ns := range namespaces() {
		killNamespace(ns, syscall.SIGKILL)
		_ = ip("netns", "del", ns)
	}
	for _, l := range links() {
		_ = ip("link", "del", l)
	}
	removeCgroups()
	unmountAll()
	_ = os.RemoveAll(runDir)
	_ = os.RemoveAll(dataDir)
}

// killNamespace sends sig to every process of namespace ns.
func killNamespace(ns string, sig syscall.Signal) {
	for _, p := range namespacePids(ns) {
		if pid, err := strconv.Atoi(p); err == nil {
			_ = syscall.Kill(pid, sig)
		}
	}
}

// removeCgroups kills what still runs in the cgroups the hosts' dockerds
// made under their cgroup parents, /<Prefix>h<i> of every controller (the
// containers of a killed run: their processes have network namespaces of
// their own, so killing a host's namespace does not reach them), and
// removes the cgroups.
func removeCgroups() {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + Prefix + "*")
	more, _ := filepath.Glob("/sys/fs/cgroup/" + Prefix + "*")
	dirs = append(dirs, more...)
	deadline := time.Now().Add(10 * time.Second)
	for _, d := range dirs {
		for killTree(d) > 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, d := range dirs {
		removeTree(d)
	}
}

// killTree sends SIGKILL to every process of cgroup d and those below it,
// and returns how many it found.
func killTree(d string) int {
	n := 0
	entries, _ := os.ReadDir(d)
	for _, e := range entries {
		if e.IsDir() {
			n += killTree(filepath.Join(d, e.Name()))
		}
	}
	procs, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
	for _, p := range strings.Fields(string(procs)) {
		if pid, err := strconv.Atoi(p); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			n++
		}
	}
	return n
}

// removeTree removes the cgroup directory d and those below it, deepest
// first (cgroup directories are removed with rmdir, never unlink).
func removeTree(d string) {
	entries, _ := os.ReadDir(d)
	for _, e := range entries {
		if e.IsDir() {
			removeTree(filepath.Join(d, e.Name()))
		}
	}
	_ = syscall.Rmdir(d)
}

// unmountAll detaches every mount below runDir and dataDir (the daemons'
// overlays and the containers' namespace files), deepest first.
func unmountAll() {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		p := fields[4]
		if under(p, runDir) || under(p, dataDir) {
			points = append(points, p)
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	for _, p := range points {
		_ = syscall.Unmount(p, syscall.MNT_DETACH)
	}
}

// under reports whether path is dir or below it.
func under(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/")
}
