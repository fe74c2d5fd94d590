#!/bin/sh
# End-to-end checks of `runsc-c run` with real programs, as a user runs it.
# usage: e2e.sh RUNSC PLATFORM CASE [HELPER]
set -u
R=$1
case $R in /*) ;; *) R=$PWD/$R ;; esac
P=$2
case_name=$3
helper=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
BB=/bin/busybox
# Not `python3` on PATH: that may be a shell script (pyenv), and #! needs
# execve in the sandbox.
PY=/usr/bin/python3

fail() { echo "FAIL [$case_name on $P]: $*" >&2; exit 1; }
skip() { echo "SKIP [$case_name on $P]: $*"; exit 77; }
# runsc ARGS...: runsc-c ARGS, on platform $P when ARGS is a run command.
runsc() {
	if [ "${1:-}" = run ]; then
		shift
		"$R" run --platform="$P" "$@"
	else
		"$R" "$@"
	fi
}
# run EXPECTED_STATUS ARGS...: runs runsc-c ARGS, stdout to $tmp/out, stderr to $tmp/err
run() {
	want=$1
	shift
	runsc "$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	[ "$got" -eq "$want" ] || fail "runsc-c $* exited $got, want $want; stderr: $(head -c 2000 "$tmp/err")"
}
# every_change_erofs DIR [RUN ARGS...]: in a sandbox, each call that would
# change DIR (holding a file f and a directory sub) fails with EROFS.
every_change_erofs() {
	dir=$1
	shift
	[ -x "$PY" ] || return 0
	run 0 run "$@" -- "$PY" -c 'import errno, os, sys
d = sys.argv[1]
f = d + "/f"
calls = {
    "open O_RDWR": lambda: os.open(f, os.O_RDWR),
    "open O_TRUNC": lambda: os.open(f, os.O_WRONLY | os.O_TRUNC),
    "creat": lambda: os.open(d + "/new", os.O_CREAT | os.O_WRONLY, 0o644),
    "chmod": lambda: os.chmod(f, 0o600),
    "chown": lambda: os.chown(f, 1, 1),
    "utime": lambda: os.utime(f, (1, 1)),
    "truncate": lambda: os.truncate(f, 0),
    "unlink": lambda: os.unlink(f),
    "rmdir": lambda: os.rmdir(d + "/sub"),
    "mkdir": lambda: os.mkdir(d + "/dir"),
    "rename": lambda: os.rename(f, d + "/g"),
    "link": lambda: os.link(f, d + "/h"),
    "symlink": lambda: os.symlink("x", d + "/s"),
    "mkfifo": lambda: os.mkfifo(d + "/fifo"),
    "setxattr": lambda: os.setxattr(f, "user.x", b"1"),
}
for name, call in calls.items():
    try:
        call()
        print(name, "succeeded")
    except OSError as e:
        if e.errno != errno.EROFS:
            print(name, errno.errorcode[e.errno])
print("access W_OK", os.access(f, os.W_OK))' "$dir"
	expect_out "access W_OK False"
}
expect_out() { [ "$(cat "$tmp/out")" = "$1" ] || fail "stdout was '$(cat "$tmp/out")', want '$1'"; }

[ -x "$BB" ] || { echo "SKIP: $BB is missing (Debian package busybox-static)"; exit 77; }

case $case_name in
echo)
	run 0 run -- $BB echo hello
	expect_out hello ;;
echo-path)
	# A program found on PATH, with arguments containing spaces.
	PATH=/bin:/usr/bin run 0 run -- busybox echo "a b" c
	expect_out "a b c" ;;
uname)
	run 0 run -- $BB uname -a
	grep -q '^Linux runsc-c .* x86_64' "$tmp/out" || fail "uname -a printed '$(cat "$tmp/out")'"
	run 0 run --hostname=box1 -- $BB uname -n
	expect_out box1 ;;
true)
	run 0 run -- $BB true ;;
false)
	run 1 run -- $BB false ;;
stdin)
	# Reading the host stdin the CLI hands over.
	printf 'one\ntwo\n' | runsc run -- $BB wc -l >"$tmp/out" 2>"$tmp/err" ||
		fail "wc failed: $(cat "$tmp/err")"
	[ "$(tr -d ' ' <"$tmp/out")" = 2 ] || fail "wc -l printed '$(cat "$tmp/out")'" ;;
strace)
	run 0 run --strace -- $BB echo hello
	expect_out hello
	grep -q '^\[1:1\] write(1, "hello\\n", 6) = 6 ' "$tmp/err" ||
		fail "no decoded write line in: $(head -c 3000 "$tmp/err")"
	grep -q '^\[1:1\] mprotect(0x[0-9a-f]*, [0-9]*, PROT_READ) = 0 ' "$tmp/err" ||
		fail "no decoded mprotect line"
	grep -q '^\[1:1\] readlink("/proc/self/exe", "/usr/bin/busybox", 4096) = 16 ' "$tmp/err" ||
		fail "no decoded readlink line"
	grep -q '^\[1:1\] rseq(.*) = -38 (ENOSYS) ' "$tmp/err" || fail "no errno name shown"
	grep -q 'exit_group(0) = ?' "$tmp/err" || fail "no exit_group line" ;;
bad-elf)
	# A file that is not a valid executable: one line of error, non-zero.
	printf '\177ELF\002\001\001garbage' >"$tmp/bad"
	chmod +x "$tmp/bad"
	run 126 run -- "$tmp/bad"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "want one line of error, got: $(cat "$tmp/err")"
	grep -q "cannot run $tmp/bad: " "$tmp/err" || fail "error does not name the file: $(cat "$tmp/err")"
	# A truncated copy of a real program.
	head -c 100 $BB >"$tmp/trunc"
	chmod +x "$tmp/trunc"
	run 126 run -- "$tmp/trunc"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "want one line of error, got: $(cat "$tmp/err")"
	# A script runs its interpreter (as an OCI entrypoint script does),
	# found on $PATH too; a missing interpreter is 127, a bad #! 126.
	printf '#!/bin/sh\necho hi "$0" "$@"\n' >"$tmp/script"
	chmod +x "$tmp/script"
	run 0 run -- "$tmp/script" a
	expect_out "hi $tmp/script a"
	PATH=$tmp:/bin run 0 run -- script b
	expect_out "hi $tmp/script b"
	printf '#!/nonexistent/sh\n' >"$tmp/script"
	run 127 run -- "$tmp/script"
	grep -q 'bad interpreter' "$tmp/err" || fail "stderr: $(cat "$tmp/err")"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "want one line of error, got: $(cat "$tmp/err")"
	printf '#!\n' >"$tmp/script"
	run 126 run -- "$tmp/script" ;;
not-found)
	run 127 run -- /nonexistent/program
	grep -q 'No such file' "$tmp/err" || fail "stderr: $(cat "$tmp/err")"
	PATH=/bin run 127 run -- no-such-command-xyz
	grep -q 'command not found' "$tmp/err" || fail "stderr: $(cat "$tmp/err")"
	printf 'x' >"$tmp/noexec"
	run 126 run -- "$tmp/noexec" ;;
bad-flags)
	run 2 run --platform=nosuch -- $BB true
	grep -q "unknown platform 'nosuch'" "$tmp/err" || fail "stderr: $(cat "$tmp/err")"
	run 2 run
	run 2 run --no-such-flag -- $BB true
	run 2 run --strace=yes -- $BB true
	grep -q "flag '--strace=yes' takes no value" "$tmp/err" || fail "stderr: $(cat "$tmp/err")"
	run 2 run --root
	grep -q "flag '--root' needs a value" "$tmp/err" || fail "stderr: $(cat "$tmp/err")"
	run 2 run -z -- $BB true
	grep -q "unknown flag '-z'" "$tmp/err" || fail "stderr: $(cat "$tmp/err")"
	run 2 no-such-command ;;
signal-sleep)
	# kill -TERM of runsc-c reaches the program: blocked in the sentry.
	"$R" run --platform="$P" -- $BB sleep 60 &
	pid=$!
	sleep 0.5
	kill -TERM $pid
	wait $pid
	st=$?
	[ $st -eq 143 ] || fail "want 143 after SIGTERM, got $st" ;;
signal-spin)
	# ... and running application code that never traps.
	"$R" run --platform="$P" -- "$helper" &
	pid=$!
	sleep 0.5
	kill -INT $pid
	wait $pid
	st=$?
	[ $st -eq 130 ] || fail "want 130 after SIGINT, got $st" ;;
ls-root)
	# The root is the host's /: the same names, listed in long form.
	run 0 run -- /bin/ls -la /
	for n in . .. bin etc usr proc dev; do
		grep -q " $n\( -> .*\)\?\$" "$tmp/out" || fail "ls -la / has no '$n': $(cat "$tmp/out")"
	done
	# A merged overlay directory has link count 1, as in overlayfs.
	grep -q '^d[rwxst-]* *1 .* \.$' "$tmp/out" || fail "ls -la / shows for '.': $(grep ' \.$' "$tmp/out")"
	run 0 run -- /bin/ls -A /
	/bin/ls -A / >"$tmp/native"
	cmp -s "$tmp/out" "$tmp/native" ||
		fail "ls -A / differs from native: $(diff "$tmp/native" "$tmp/out")" ;;
os-release)
	# /etc/os-release is a relative symlink on Debian.
	run 0 run -- /bin/cat /etc/os-release
	cmp -s "$tmp/out" /etc/os-release || fail "cat /etc/os-release printed '$(cat "$tmp/out")'" ;;
find-count)
	[ -d /usr/include ] || skip "/usr/include is missing"
	run 0 run -- /usr/bin/find /usr/include -name '*.h'
	got=$(wc -l <"$tmp/out")
	want=$(find /usr/include -name '*.h' | wc -l)
	[ "$got" -eq "$want" ] || fail "find counted $got headers, native $want"
	[ "$got" -gt 0 ] || fail "no headers found"
	sort "$tmp/out" >"$tmp/sandbox"
	find /usr/include -name '*.h' | sort >"$tmp/native"
	cmp -s "$tmp/sandbox" "$tmp/native" || fail "find printed other names than native" ;;
python-env)
	[ -x "$PY" ] || skip "$PY is missing"
	run 0 run --env='RUNSC_E2E_VAR=a "quoted" value' -- \
		"$PY" -c 'import json,os; print(json.dumps(dict(os.environ)))'
	"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["RUNSC_E2E_VAR"] == "a \"quoted\" value", d' "$tmp/out" ||
		fail "not JSON with RUNSC_E2E_VAR: $(head -c 2000 "$tmp/out")" ;;
overlay-write)
	# Writes to the default root stay in the sandbox: visible in the
	# same run, never on the host.
	[ -x "$PY" ] || skip "$PY is missing"
	f=/etc/runsc-e2e-$P-$$
	[ ! -e "$f" ] || fail "$f exists before the test"
	ls -A /etc >"$tmp/etc-before"
	run 0 run -- "$PY" -c "import sys
open(sys.argv[1], 'w').write('y')
print(open(sys.argv[1]).read())" "$f"
	expect_out y
	run 0 run -- $BB sh -c "echo y >$f && test -s $f && echo written"
	expect_out written
	run 0 run -- $BB touch "$f"
	[ ! -e "$f" ] || { rm -f "$f"; fail "$f reached the host"; }
	# A new sandbox starts from the host's files again.
	run 1 run -- $BB cat "$f"
	ls -A /etc >"$tmp/etc-after"
	cmp -s "$tmp/etc-before" "$tmp/etc-after" ||
		fail "the host's /etc changed: $(diff "$tmp/etc-before" "$tmp/etc-after")" ;;
overlay-copyup)
	# Changing, renaming and removing host files (the lower layer)
	# changes only the sandbox's view.
	[ -x "$PY" ] || skip "$PY is missing"
	mkdir "$tmp/d"
	echo orig >"$tmp/d/file"
	echo keep >"$tmp/d/moved"
	echo gone >"$tmp/d/removed"
	run 0 run -- "$PY" -c "import os, sys
d = sys.argv[1]
with open(d + '/file', 'a') as f: f.write('more\n')
os.rename(d + '/moved', d + '/renamed')
os.unlink(d + '/removed')
os.mkdir(d + '/newdir')
print(open(d + '/file').read(), end='')
print(sorted(os.listdir(d)))" "$tmp/d"
	expect_out "orig
more
['file', 'newdir', 'renamed']"
	[ "$(cat "$tmp/d/file")" = orig ] || fail "the host file changed"
	[ "$(ls "$tmp/d" | tr '\n' ' ')" = "file moved removed " ] ||
		fail "the host directory changed: $(ls "$tmp/d")" ;;
bind-rw)
	# A read-write bind writes through to the host.
	mkdir "$tmp/b"
	echo host >"$tmp/b/fromhost"
	m="--mount=type=bind,src=$tmp/b,dst=/mnt/runsc-e2e"
	run 0 run "$m" -- $BB cat /mnt/runsc-e2e/fromhost
	expect_out host
	run 0 run "$m" -- $BB cp /etc/os-release /mnt/runsc-e2e/new
	cmp -s "$tmp/b/new" /etc/os-release || fail "created file not on the host"
	run 0 run "$m" -- $BB mv /mnt/runsc-e2e/new /mnt/runsc-e2e/renamed
	[ ! -e "$tmp/b/new" ] && cmp -s "$tmp/b/renamed" /etc/os-release ||
		fail "rename not on the host: $(ls "$tmp/b")"
	run 0 run "$m" -- $BB rm /mnt/runsc-e2e/renamed
	[ ! -e "$tmp/b/renamed" ] || fail "remove not on the host"
	run 0 run "$m" -- $BB mkdir /mnt/runsc-e2e/dir
	[ -d "$tmp/b/dir" ] || fail "mkdir not on the host"
	run 0 run "$m" -- $BB rmdir /mnt/runsc-e2e/dir
	[ ! -e "$tmp/b/dir" ] || fail "rmdir not on the host"
	[ "$(ls "$tmp/b")" = fromhost ] || fail "left behind: $(ls "$tmp/b")"
	# All in one run, by a dynamic program.
	if [ -x "$PY" ]; then
		run 0 run "$m" -- "$PY" -c "import os
os.chdir('/mnt/runsc-e2e')
open('a', 'w').write('data')
os.rename('a', 'b')
open('c', 'w').close()
os.remove('c')
os.chmod('b', 0o640)
os.utime('b', (1000000000, 1000000000))
os.link('b', 'hard')
os.symlink('b', 'sym')
os.mkfifo('fifo')
os.mkdir('dir')
os.rename('dir', 'dir2')
print(sorted(os.listdir('.')))"
		expect_out "['b', 'dir2', 'fifo', 'fromhost', 'hard', 'sym']"
		[ ! -e "$tmp/b/a" ] && [ ! -e "$tmp/b/c" ] && [ "$(cat "$tmp/b/b")" = data ] ||
			fail "host sees: $(ls "$tmp/b")"
		[ "$(stat -c '%a %Y %h' "$tmp/b/b")" = "640 1000000000 2" ] ||
			fail "attributes on the host: $(stat -c '%a %Y %h' "$tmp/b/b")"
		[ "$(readlink "$tmp/b/sym")" = b ] && [ -p "$tmp/b/fifo" ] && [ -d "$tmp/b/dir2" ] ||
			fail "host sees: $(ls -l "$tmp/b")"
	fi ;;
bind-ro)
	mkdir "$tmp/b"
	echo host >"$tmp/b/fromhost"
	m="--mount=type=bind,src=$tmp/b,dst=/mnt/runsc-e2e,ro"
	run 0 run "$m" -- $BB cat /mnt/runsc-e2e/fromhost
	expect_out host
	run 1 run "$m" -- $BB touch /mnt/runsc-e2e/new
	grep -q 'Read-only file system' "$tmp/err" || fail "touch: $(cat "$tmp/err")"
	run 1 run "$m" -- $BB rm /mnt/runsc-e2e/fromhost
	grep -q 'Read-only file system' "$tmp/err" || fail "rm: $(cat "$tmp/err")"
	run 1 run "$m" -- $BB mkdir /mnt/runsc-e2e/dir
	grep -q 'Read-only file system' "$tmp/err" || fail "mkdir: $(cat "$tmp/err")"
	run 1 run "$m" -- $BB mv /mnt/runsc-e2e/fromhost /mnt/runsc-e2e/x
	grep -q 'Read-only file system' "$tmp/err" || fail "mv: $(cat "$tmp/err")"
	echo data >"$tmp/b/f"
	mkdir "$tmp/b/sub"
	every_change_erofs /mnt/runsc-e2e "$m"
	[ "$(ls "$tmp/b" | tr '\n' ' ')" = "f fromhost sub " ] && [ "$(cat "$tmp/b/fromhost")" = host ] &&
		[ "$(cat "$tmp/b/f")" = data ] || fail "the host directory changed: $(ls "$tmp/b")" ;;
overlay-none)
	# No overlay: / is read-only; a tmpfs on it is still writable.
	run 0 run --overlay=none -- /bin/cat /etc/os-release
	cmp -s "$tmp/out" /etc/os-release || fail "cat printed '$(cat "$tmp/out")'"
	run 1 run --overlay=none -- $BB touch /etc/runsc-e2e-x
	grep -q 'Read-only file system' "$tmp/err" || fail "touch: $(cat "$tmp/err")"
	mkdir "$tmp/d"
	echo orig >"$tmp/d/file"
	run 1 run --overlay=none -- $BB rm "$tmp/d/file"
	grep -q 'Read-only file system' "$tmp/err" || fail "rm: $(cat "$tmp/err")"
	run 1 run --overlay=none -- $BB mkdir "$tmp/d/dir"
	grep -q 'Read-only file system' "$tmp/err" || fail "mkdir: $(cat "$tmp/err")"
	echo data >"$tmp/d/f"
	mkdir "$tmp/d/sub"
	every_change_erofs "$tmp/d" --overlay=none
	[ "$(ls "$tmp/d" | tr '\n' ' ')" = "f file sub " ] && [ "$(cat "$tmp/d/f")" = data ] ||
		fail "the host changed: $(ls "$tmp/d")"
	run 0 run --overlay=none --tmpfs=/tmp --cwd=/ -- $BB touch /tmp/x ;;
tmpfs-size)
	t=--tmpfs=/mnt/runsc-e2e:size=1m
	run 1 run "$t" -- $BB dd if=/dev/zero of=/mnt/runsc-e2e/f bs=4096 count=1000
	grep -q 'No space left on device' "$tmp/err" || fail "dd: $(cat "$tmp/err")"
	grep -q '^256+0 records out' "$tmp/err" || fail "not exactly 1 MiB written: $(cat "$tmp/err")"
	run 0 run "$t" -- $BB dd if=/dev/zero of=/mnt/runsc-e2e/f bs=4096 count=200
	run 0 run "$t" -- $BB df -k /mnt/runsc-e2e
	grep -q '^tmpfs  *1024 ' "$tmp/out" || fail "df: $(cat "$tmp/out")" ;;
cwd)
	run 0 run --cwd=/usr/share -- $BB pwd
	expect_out /usr/share
	run 0 run --cwd=/usr/share -- $BB cat ../../etc/os-release
	cmp -s "$tmp/out" /etc/os-release || fail "relative read printed '$(cat "$tmp/out")'"
	# Without --cwd: the caller's directory when the root is the host's,
	# else /.
	(cd /usr && runsc run --clear-env -- $BB pwd) >"$tmp/out" 2>"$tmp/err" ||
		fail "pwd: $(cat "$tmp/err")"
	expect_out /usr
	mkdir -p "$tmp/root/bin" "$tmp/root/usr"
	cp $BB "$tmp/root/bin/busybox"
	(cd /usr && runsc run --clear-env --root="$tmp/root" -- /bin/busybox pwd) \
		>"$tmp/out" 2>"$tmp/err" || fail "pwd: $(cat "$tmp/err")"
	expect_out /
	mkdir "$tmp/b"
	echo x >"$tmp/b/inbind"
	run 0 run --mount=type=bind,src="$tmp/b",dst=/mnt/runsc-e2e --cwd=/mnt/runsc-e2e -- $BB ls
	expect_out inbind
	# A mount hiding the caller's directory: start in /.
	mkdir "$tmp/hidden"
	(cd "$tmp/hidden" && runsc run --tmpfs="$tmp" -- $BB pwd) >"$tmp/out" 2>"$tmp/err" ||
		fail "pwd under a tmpfs: $(cat "$tmp/err")"
	expect_out /
	# A missing --cwd is the caller's mistake (126), not a missing
	# program (127); so is a mount that cannot be made.
	run 126 run --cwd=/nonexistent -- $BB true
	[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q /nonexistent "$tmp/err" ||
		fail "want one line naming /nonexistent, got: $(cat "$tmp/err")"
	run 126 run --tmpfs=/etc/passwd -- $BB true
	[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q /etc/passwd "$tmp/err" ||
		fail "want one line naming /etc/passwd, got: $(cat "$tmp/err")" ;;
env)
	run 0 run --clear-env --env=A=1 --env=B=x=y -- $BB env
	expect_out "A=1
B=x=y"
	run 0 run --clear-env -- $BB env
	expect_out ""
	run 0 run --clear-env --env=A=1 --env=A=2 --env=EMPTY= -- $BB env
	expect_out "A=2
EMPTY="
	export RUNSC_E2E_HOST=host
	run 0 run -- $BB env
	grep -qx RUNSC_E2E_HOST=host "$tmp/out" || fail "the caller's environment is missing"
	run 0 run --env=RUNSC_E2E_HOST=over --env=RUNSC_E2E_NEW=1 -- $BB env
	grep -qx RUNSC_E2E_HOST=over "$tmp/out" && grep -qx RUNSC_E2E_NEW=1 "$tmp/out" &&
		[ "$(grep -c RUNSC_E2E_HOST "$tmp/out")" -eq 1 ] || fail "env printed: $(cat "$tmp/out")"
	unset RUNSC_E2E_HOST ;;
hostname)
	run 0 run --hostname=e2e-box -- $BB uname -n
	expect_out e2e-box
	run 0 run --hostname=e2e-box -- $BB cat /proc/sys/kernel/hostname
	expect_out e2e-box
	run 0 run --hostname=e2e-box -- $BB hostname
	expect_out e2e-box
	run 0 run -- $BB cat /proc/sys/kernel/hostname
	expect_out runsc-c ;;
root-symlinks)
	# --root: symlinks inside it, absolute or climbing out with "..",
	# resolve inside it; nothing outside is reachable.
	root=$tmp/root
	# (proc, dev and sys: a read-only root must have the mount points.)
	mkdir -p "$root/bin" "$root/etc" "$root/sub/deep" "$tmp/bind" \
		"$root/proc" "$root/dev" "$root/sys"
	cp $BB "$root/bin/busybox"
	echo INSIDE-ROOT >"$root/marker"
	echo INSIDE-PASSWD >"$root/etc/passwd"
	echo OUTSIDE >"$tmp/marker"
	ln -s /etc/shadow "$root/shadow"
	ln -s /etc/passwd "$root/passwd"
	ln -s ../../.. "$root/up"
	ln -s / "$root/rootlink"
	ln -s ../../marker "$root/sub/rel"
	ln -s ../../../../../../../../marker "$root/sub/deep/rel"
	ln -s ../up "$root/sub/chain"
	ln -s "$tmp/marker" "$root/abs"
	ln -s "$tmp" "$root/absdir"
	ln -s .. "$tmp/bind/out"
	# PATH EXPECTED: the file's contents, or "" for must not open.
	for ov in memory none; do
		while read -r path want; do
			runsc run --root="$root" --overlay=$ov -- /bin/busybox cat "$path" \
				</dev/null >"$tmp/out" 2>"$tmp/err"
			st=$?
			if [ -z "$want" ]; then
				[ $st -ne 0 ] || fail "$path (overlay $ov) read '$(cat "$tmp/out")'"
				grep -q 'No such file' "$tmp/err" || fail "$path: $(cat "$tmp/err")"
			else
				[ $st -eq 0 ] || fail "$path (overlay $ov): $(cat "$tmp/err")"
				expect_out "$want"
			fi
		done <<-EOF
		/shadow
		/passwd INSIDE-PASSWD
		/up/marker INSIDE-ROOT
		/up/etc/shadow
		/up/etc/passwd INSIDE-PASSWD
		/rootlink/marker INSIDE-ROOT
		/rootlink/etc/shadow
		/sub/rel INSIDE-ROOT
		/sub/deep/rel INSIDE-ROOT
		/sub/chain/marker INSIDE-ROOT
		/sub/chain/../marker INSIDE-ROOT
		/abs
		/absdir/marker
		/../marker INSIDE-ROOT
		/../../../marker INSIDE-ROOT
		/sub/../../../marker INSIDE-ROOT
		/etc/shadow
		$tmp/marker
		EOF
		run 0 run --root="$root" --overlay=$ov -- /bin/busybox ls /up/ /sub/chain/
		grep -q '^marker$' "$tmp/out" || fail "ls /up/: $(cat "$tmp/out")"
		grep -q '^usr$' "$tmp/out" && fail "ls /up/ lists the host's /: $(cat "$tmp/out")"
		# Writing through a bind's symlink that climbs out of it lands
		# inside the sandbox's root, never next to the bind on the host.
		runsc run --root="$root" --overlay=$ov --mount=type=bind,src="$tmp/bind",dst=/b -- \
			/bin/busybox touch /b/out/escaped >"$tmp/out" 2>"$tmp/err"
		[ ! -e "$tmp/escaped" ] && [ ! -e "$root/escaped" ] || fail "touch escaped the bind"
	done ;;
bad-flag-values)
	# Each: exit 2 and one line of error, before anything runs.
	mkdir "$tmp/b"
	while read -r flag; do
		runsc run "$flag" -- $BB true </dev/null >"$tmp/out" 2>"$tmp/err"
		st=$?
		[ $st -eq 2 ] || fail "$flag: exit $st, want 2: $(cat "$tmp/err")"
		[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q '^runsc-c: ' "$tmp/err" ||
			fail "$flag: want one line of error, got: $(cat "$tmp/err")"
	done <<-EOF
	--overlay=bogus
	--overlay=
	--root=/nonexistent
	--root=/etc/os-release
	--tmpfs=relative
	--tmpfs=/
	--tmpfs=/x/../y
	--tmpfs=/x:size=abc
	--tmpfs=/x:size=0
	--tmpfs=/x:size=-1
	--tmpfs=/x:size=17179869185g
	--tmpfs=/x:bogus=1
	--mount=type=tmpfs,dst=/x
	--mount=type=bind,dst=/x
	--mount=src=$tmp/b,dst=/x
	--mount=type=bind,src=/nonexistent,dst=/x
	--mount=type=bind,src=/etc/os-release,dst=/x
	--mount=type=bind,src=$tmp/b,dst=relative
	--mount=type=bind,src=$tmp/b,dst=/
	--mount=type=bind,src=$tmp/b,dst=/x/..
	--mount=type=bind,src=$tmp/b,dst=/x,bogus
	--mount=type=bind,src=$tmp/b,dst=/x,color=red
	--cwd=relative
	--env=NOEQUALS
	--env==v
	--hostname=
	--hostname=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
	--platform=
	EOF
	;;
*)
	fail "unknown case" ;;
esac
exit 0
