#!/bin/sh
# End-to-end checks of processes, signals and IPC (issue 4) with real
# programs: shells, make and gcc, python. Each case runs its program in the
# sandbox and compares with what Linux gives.
# usage: processes.sh RUNSC PLATFORM CASE
set -u
R=$1
case $R in /*) ;; *) R=$PWD/$R ;; esac
P=$2
case_name=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
BB=/bin/busybox
PY=/usr/bin/python3

fail() { echo "FAIL [$case_name on $P]: $*" >&2; exit 1; }
skip() { echo "SKIP [$case_name on $P]: $*"; exit 77; }
need() { [ -x "$1" ] || skip "$1 is missing (Debian package $2)"; }
# run EXPECTED_STATUS ARGS...: runs ARGS in the sandbox from $tmp, stdout
# to $tmp/out, stderr to $tmp/err.
run() {
	want=$1
	shift
	(cd "$tmp" && "$R" run --platform="$P" -- "$@") </dev/null >"$tmp/out" 2>"$tmp/err"
	got=$?
	[ "$got" -eq "$want" ] ||
		fail "$* exited $got, want $want; stdout: $(head -c 1000 "$tmp/out"); stderr: $(head -c 2000 "$tmp/err")"
}
expect_out() {
	[ "$(cat "$tmp/out")" = "$1" ] || fail "stdout was '$(cat "$tmp/out")', want '$1'; stderr: $(head -c 2000 "$tmp/err")"
}

case $case_name in
sh-loop)
	# The issue's first check, word for word.
	need $BB busybox-static
	run 0 $BB sh -c 'for i in 1 2 3; do echo $i | cat; done'
	expect_out "$(printf '1\n2\n3')" ;;
sh-pipeline)
	# Many processes on both ends of pipes, and a pipeline's status.
	need $BB busybox-static
	run 0 $BB sh -c 'seq 1 2000 | sort -rn | head -n 3 | tr "\n" " "; echo
i=0; n=0
while [ $i -lt 40 ]; do n=$((n + $(echo $i | wc -c))); i=$((i + 1)); done
echo $n
false | true; echo "status $?"
x=$(echo inner | (read v; echo "got $v")); echo "$x"'
	expect_out "$(printf '2000 1999 1998 \n110\nstatus 0\ngot inner')" ;;
bash-script)
	# Pipes, subshells, trap, background jobs, wait, $(...) and jobs.
	need /bin/bash bash
	cat >"$tmp/script.sh" <<'EOF'
set -o pipefail
got=0
trap 'got=$((got + 1))' USR1
kill -USR1 $$
kill -USR1 $$
echo "traps $got"
( exit 7 ); echo "subshell $?"
v=$(for w in a b c; do printf '%s' "$w"; done); echo "subst $v"
sleep 0.2 & s=$!
( sleep 0.1; exit 3 ) & f=$!
jobs | wc -l
wait $f; echo "wait $?"
wait $s; echo "wait $?"
echo data | tr a-z A-Z | { read x; echo "pipe $x"; }
false | true; echo "pipefail $?"
trap 'echo "exit trap"' EXIT
exit 0
EOF
	run 0 /bin/bash "$tmp/script.sh"
	expect_out "$(printf 'traps 2\nsubshell 7\nsubst abc\n2\nwait 3\nwait 0\npipe DATA\npipefail 1\nexit trap')" ;;
make-j2)
	# make runs gcc (cc1, as, collect2, ld: fork, exec, pipes, wait) two
	# jobs at a time, then the program it built runs.
	need /usr/bin/make make
	need /usr/bin/gcc gcc
	mkdir "$tmp/proj"
	for i in 1 2 3 4; do
		printf 'int f%d(void) { return %d; }\n' $i $i >"$tmp/proj/f$i.c"
	done
	cat >"$tmp/proj/main.c" <<'EOF'
#include <stdio.h>
int f1(void), f2(void), f3(void), f4(void);
int main(void) { printf("sum %d\n", f1() + f2() + f3() + f4()); return 0; }
EOF
	printf 'prog: main.o f1.o f2.o f3.o f4.o\n\tgcc -o $@ $^\n%%.o: %%.c\n\tgcc -O1 -c $<\n' \
		>"$tmp/proj/Makefile"
	run 0 /bin/sh -c 'cd proj && make -s -j2 && ./prog'
	expect_out "sum 10" ;;
python-subprocess)
	need $PY python3
	run 0 $PY -c 'import subprocess, sys
r = subprocess.run(["/bin/busybox", "echo", "child"], capture_output=True, text=True)
print(r.returncode, r.stdout.strip())
print(subprocess.run([sys.executable, "-c", "import sys; sys.exit(5)"]).returncode)
p = subprocess.Popen(["/bin/busybox", "cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
out, _ = p.communicate(b"x" * 100000)
print(len(out), p.returncode)
print(subprocess.check_output("echo $((6 * 7))", shell=True).decode().strip())'
	expect_out "$(printf '0 child\n5\n100000 0\n42')" ;;
python-threads)
	need $PY python3
	run 0 $PY -c 'import threading
lock = threading.Lock()
total = [0]
def work(n):
    s = sum(i * i for i in range(n))
    with lock:
        total[0] += s
ts = [threading.Thread(target=work, args=(20000 + k,)) for k in range(8)]
for t in ts: t.start()
for t in ts: t.join()
print(total[0] == sum(sum(i * i for i in range(20000 + k)) for k in range(8)))
ev = threading.Event(); c = threading.Condition(); box = []
def waiter():
    with c:
        c.wait_for(lambda: box)
    ev.set()
w = threading.Thread(target=waiter); w.start()
with c:
    box.append(1); c.notify()
print(ev.wait(30), threading.active_count() <= 2)'
	expect_out "$(printf 'True\nTrue True')" ;;
python-pool)
	need $PY python3
	run 0 $PY -c 'import multiprocessing
def sq(x):
    return x * x
if __name__ == "__main__":
    with multiprocessing.Pool(2) as p:
        print(sum(p.map(sq, range(100))))'
	expect_out "328350" ;;
python-alarm)
	need $PY python3
	run 0 $PY -c 'import signal, time
hits = []
signal.signal(signal.SIGALRM, lambda s, f: hits.append(s))
signal.alarm(1)
signal.pause()
print(hits == [signal.SIGALRM])
signal.setitimer(signal.ITIMER_REAL, 0.05)
time.sleep(5)   # PEP 475: the sleep resumes after the handler
print(len(hits))'
	expect_out "$(printf 'True\n2')" ;;
python-socketpair)
	need $PY python3
	run 0 $PY -c 'import socket, os
a, b = socket.socketpair()
a.sendall(b"ping")
print(b.recv(4).decode())
pid = os.fork()
if pid == 0:
    a.close()
    b.sendall(b.recv(100).upper())
    os._exit(0)
b.close()
a.sendall(b"from parent")
print(a.recv(100).decode())
print(os.waitpid(pid, 0)[1])'
	expect_out "$(printf 'ping\nFROM PARENT\n0')" ;;
python-unittest)
	need $PY python3
	cat >"$tmp/test_sample.py" <<'EOF'
import os
import subprocess
import tempfile
import unittest


class Sample(unittest.TestCase):
    def test_arith(self):
        self.assertEqual(2 + 2, 4)

    def test_files(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "f")
            with open(p, "w") as f:
                f.write("data")
            with open(p) as f:
                self.assertEqual(f.read(), "data")

    def test_child(self):
        self.assertEqual(subprocess.call(["/bin/busybox", "true"]), 0)

    @unittest.expectedFailure
    def test_known_bad(self):
        self.assertEqual(1, 2)


if __name__ == "__main__":
    unittest.main()
EOF
	run 0 $PY -m unittest -v test_sample
	grep -q '^Ran 4 tests' "$tmp/err" || fail "unittest: $(cat "$tmp/err")"
	grep -q '^OK (expected failures=1)' "$tmp/err" || fail "unittest: $(cat "$tmp/err")" ;;
ctrl-c)
	# ^C (SIGINT to runsc-c) reaches the program's process group: the
	# shell and the sleep it waits for both die of it, as in a terminal.
	# HUP: started with it ignored (nohup), runsc-c does not forward it
	# and the program lives on until TERM.
	need $BB busybox-static
	for sig in INT TERM HUP; do
		pre=
		[ $sig = HUP ] && pre=--ignore-signal=HUP
		env $pre "$R" run --platform="$P" -- $BB sh -c 'echo started; sleep 100; echo after' \
			</dev/null >"$tmp/out" 2>"$tmp/err" &
		pid=$!
		i=0
		while [ "$(cat "$tmp/out")" != started ] && [ $i -lt 600 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		sleep 0.2
		kill -$sig $pid
		if [ $sig = HUP ]; then
			# Still running a moment later; TERM then ends it.
			sleep 0.5
			kill -0 $pid 2>/dev/null || fail "SIGHUP ignored at start still ended the sandbox"
			kill -TERM $pid
		fi
		wait $pid
		st=$?
		case $sig in INT) want=130 ;; *) want=143 ;; esac
		[ $st -eq $want ] || fail "SIG$sig: exited $st, want $want; $(cat "$tmp/err")"
		expect_out started
	done ;;
fork-bomb)
	# RLIMIT_NPROC holds a non-root user's fork bomb to its limit: fork
	# fails with EAGAIN, the rest of the sandbox keeps working.
	need $PY python3
	run 0 $PY -c 'import os, resource, signal, errno
os.setgid(1000); os.setuid(1000)
resource.setrlimit(resource.RLIMIT_NPROC, (20, 20))
kids = []
err = None
for _ in range(200):
    try:
        pid = os.fork()
    except OSError as e:
        err = e.errno
        break
    if pid == 0:
        signal.pause()
        os._exit(0)
    kids.append(pid)
print(errno.errorcode.get(err), len(kids) < 20)
for k in kids:
    os.kill(k, signal.SIGKILL)
    os.waitpid(k, 0)
print(os.fork.__name__)'
	expect_out "$(printf 'EAGAIN True\nfork')" ;;
*)
	echo "processes.sh: unknown case '$case_name'" >&2
	exit 2 ;;
esac
exit 0
