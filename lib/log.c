#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *component = "runsc-c";
static int out_fd = 2;
static enum log_level cur_level = LOG_LVL_WARN;
static bool json_out;

void log_init(const char *comp, int fd, enum log_level level)
{
	component = comp;
	out_fd = fd;
	cur_level = level;
}

void log_set_json(bool json) { json_out = json; }
int log_fd(void) { return out_fd; }
enum log_level log_level(void) { return cur_level; }

static const char *const level_names[] = {"error", "warning", "info", "debug"};

/* Escapes a message for a JSON string value (the OCI --log-format=json). */
static size_t json_escape(char *dst, size_t cap, const char *src)
{
	size_t n = 0;
	for (; *src && n + 7 < cap; src++) {
		unsigned char c = (unsigned char)*src;
		if (c == '"' || c == '\\') {
			dst[n++] = '\\';
			dst[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(dst + n, cap - n, "\\u%04x", c);
		} else {
			dst[n++] = (char)c;
		}
	}
	dst[n] = 0;
	return n;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char msg[2048], line[4608];
	va_list ap;
	int n;

	if (lvl > cur_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json_out) {
		char esc[4200];
		char ts[40];
		struct timespec now;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_escape(esc, sizeof(esc), msg);
		n = snprintf(line, sizeof(line),
			     "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n",
			     level_names[lvl], esc, ts);
	} else {
		n = snprintf(line, sizeof(line), "%s: %s%s%s\n", component,
			     lvl <= LOG_LVL_WARN ? level_names[lvl] : "",
			     lvl <= LOG_LVL_WARN ? ": " : "", msg);
	}
	if (n > (int)sizeof(line))
		n = sizeof(line);
	/* One write per line so lines from threads do not interleave. */
	if (write(out_fd, line, (size_t)n) < 0)
		return;
}
