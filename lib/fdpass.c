#include "lib/fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define FDPASS_MAX 2

int fdpass_send(int sock, const int *fds, int n)
{
	char byte = 0;
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(FDPASS_MAX * sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			    .msg_controllen = CMSG_SPACE((size_t)n * sizeof(int))};
	struct cmsghdr *h;

	if (n < 1 || n > FDPASS_MAX)
		return -EINVAL;
	memset(&cm, 0, sizeof(cm));
	h = CMSG_FIRSTHDR(&mh);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN((size_t)n * sizeof(int));
	memcpy(CMSG_DATA(h), fds, (size_t)n * sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}
