/*
 * Unit tests: the HTTPS transport against an independent TLS peer
 * (tests/tools/https_peer.py, Python's ssl) on 127.0.0.1, with certificates
 * from "sandbox init".  Every failure must say whether the request could
 * have reached the adapter.
 */
#include "testutil.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "../../lib/sandbox/pki.h"
#include "../../lib/sandbox/sandbox.h"
#include "../../lib/transport.h"

static char *dir;
static char sbx[4200];
static pid_t peers[8];	/* started and not yet stopped: teardown stops them if a test failed */

static const char *path(const char *rel)
{
	static char buf[8][4400];
	static int i;
	char *p = buf[i++ % 8];

	snprintf(p, 4400, "%s/%s", sbx, rel);
	return p;
}

/* Start the peer with args; returns its pid and puts its port in *port. */
static pid_t start_peer(int *port, const char *a1, const char *a2, const char *a3)
{
	int fds[2];
	pid_t pid;
	char line[32] = "";
	FILE *f;

	assert_int_equal(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY);

		/* Only the port line goes to us; nothing may hold the runner's output open. */
		dup2(fds[1], 1);
		dup2(null, 2);
		close(fds[0]);
		close(fds[1]);
		close(null);
		execl("/usr/bin/python3", "python3", "tests/tools/https_peer.py", a1, a2, a3, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	*port = atoi(line);
	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++)
		if (!peers[i]) {
			peers[i] = pid;
			break;
		}
	assert_true(*port > 0);
	return pid;
}

static void stop_peer(pid_t pid)
{
	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++)
		if (peers[i] == pid)
			peers[i] = 0;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static int setup(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_sandbox_init_options o = { "PPMID=1", NULL, 0, 0, 0, NULL };
	struct hfw_pki_request expired = { "127.0.0.1", NULL, NULL, 0, -1, "IP:127.0.0.1", "serverAuth", NULL, NULL, 0 };
	struct hfw_pki_request wrong = { "wrong.example", NULL, NULL, 0, 30, "DNS:wrong.example", "serverAuth", NULL, NULL, 0 };

	(void)state;
	dir = make_tmpdir();
	snprintf(sbx, sizeof(sbx), "%s/sbx", dir);
	expired.ca_key = wrong.ca_key = path("tls/ca.key");
	expired.ca_cert = wrong.ca_cert = path("tls/ca.pem");
	if (hfw_sandbox_init(sbx, &o, &err) < 0 ||
	    hfw_pki_issue(path("tls/expired.key"), path("tls/expired.pem"), &expired, &err) < 0 ||
	    hfw_pki_issue(path("tls/wrong.key"), path("tls/wrong.pem"), &wrong, &err) < 0)
		fail_msg("%s", err.text);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++)
		if (peers[i])
			stop_peer(peers[i]);
	rm_rf(dir);
	return 0;
}

struct outcome {
	int ret;
	enum hfw_delivery delivery;
	long status;
	char body[256];
	char error[HFW_ERROR_TEXT_MAX];
};

static struct outcome post(int port, const char *scheme, const char *mode, const char *ca,
			   int client_cert, int retries)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_transport_options o = { NULL, ca, NULL, NULL, 0, 2000, 2000, retries, 50 };
	struct hfw_reply reply;
	struct outcome r;
	hfw_transport *t = NULL;
	char url[128];

	memset(&r, 0, sizeof(r));
	snprintf(url, sizeof(url), "%s://127.0.0.1:%d/api/v1", scheme, port);
	o.base_url = url;
	if (client_cert) {
		o.client_cert = path("tls/client.pem");
		o.client_key = path("tls/client.key");
	}
	assert_int_equal(hfw_transport_open(&t, &o, &err), 0);
	r.ret = hfw_transport_post(t, mode, "<x/>", 4, &reply, &r.delivery, &err);
	r.status = reply.http_status;
	if (reply.body)
		snprintf(r.body, sizeof(r.body), "%s", reply.body);
	snprintf(r.error, sizeof(r.error), "%s", err.text);
	hfw_reply_release(&reply);
	hfw_transport_free(t);
	return r;
}

static void expect(struct outcome r, enum hfw_delivery d, const char *text)
{
	if (r.delivery != d || (d != HFW_DELIVERED && r.ret != HFW_ETRANSPORT) || !strstr(r.error, text))
		fail_msg("expected %s with \"%s\", got %s (%d): %s", hfw_delivery_name(d), text,
			 hfw_delivery_name(r.delivery), r.ret, r.error);
}

static void mutual_tls(void **state)
{
	int port;
	pid_t pid = start_peer(&port, path("tls/server.pem"), path("tls/server.key"), path("tls/ca.pem"));
	struct outcome r;

	(void)state;
	r = post(port, "https", "/ok", path("tls/ca.pem"), 1, 0);
	expect(r, HFW_DELIVERED, "");
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "<ok bytes=\"4\"/>");
	/* No client certificate: the server refuses, and so nothing was processed. */
	expect(post(port, "https", "/ok", path("tls/ca.pem"), 0, 0), HFW_NOT_SENT, "request not sent");
	/* A CA that did not issue the server's certificate. */
	expect(post(port, "https", "/ok", path("pki/ca.pem"), 1, 0), HFW_NOT_SENT, "certificate");
	/* What the adapter says about the request. */
	expect(post(port, "https", "/503", path("tls/ca.pem"), 1, 0), HFW_REFUSED, "HTTP 503");
	expect(post(port, "https", "/close", path("tls/ca.pem"), 1, 0), HFW_OUTCOME_UNKNOWN,
	       "the adapter may have the request");
	expect(post(port, "https", "/slow", path("tls/ca.pem"), 1, 0), HFW_OUTCOME_UNKNOWN,
	       "the adapter may have the request");
	expect(post(port, "https", "/text", path("tls/ca.pem"), 1, 0), HFW_OUTCOME_UNKNOWN, "not application/xml");
	stop_peer(pid);
}

static void bad_server_certificates(void **state)
{
	int port;
	pid_t pid;

	(void)state;
	pid = start_peer(&port, path("tls/expired.pem"), path("tls/expired.key"), NULL);
	expect(post(port, "https", "/ok", path("tls/ca.pem"), 0, 0), HFW_NOT_SENT, "expired");
	stop_peer(pid);
	pid = start_peer(&port, path("tls/wrong.pem"), path("tls/wrong.key"), NULL);
	expect(post(port, "https", "/ok", path("tls/ca.pem"), 0, 0), HFW_NOT_SENT, "127.0.0.1");
	stop_peer(pid);
}

static void refused_connections_are_retried(void **state)
{
	struct timeval a, b;
	int port;
	pid_t pid = start_peer(&port, NULL, NULL, NULL);
	long ms;

	(void)state;
	expect(post(port, "http", "/ok", NULL, 0, 0), HFW_DELIVERED, "");
	stop_peer(pid);	/* now nothing listens on port */
	gettimeofday(&a, NULL);
	expect(post(port, "http", "/ok", NULL, 0, 3), HFW_NOT_SENT, "(after retries)");
	gettimeofday(&b, NULL);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_usec - a.tv_usec) / 1000;
	/* 50 + 100 + 200 ms of backoff at least, jitter on top. */
	assert_true(ms >= 350);
}

static void bad_options(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_transport_options o = { "ftp://x", NULL, NULL, NULL, 0, 0, 0, -1, 0 };
	hfw_transport *t = NULL;

	(void)state;
	assert_int_equal(hfw_transport_open(&t, &o, &err), HFW_ECONFIG);
	o.base_url = "https://127.0.0.1:1/api/v1";
	o.ca = "/no/such/ca.pem";
	assert_int_equal(hfw_transport_open(&t, &o, &err), HFW_ECONFIG);
	o.ca = NULL;
	o.client_cert = "c.pem";
	assert_int_equal(hfw_transport_open(&t, &o, &err), HFW_ECONFIG);
	assert_null(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mutual_tls),
		cmocka_unit_test(bad_server_certificates),
		cmocka_unit_test(refused_connections_are_retried),
		cmocka_unit_test(bad_options),
	};

	return cmocka_run_group_tests_name("transport", tests, setup, teardown);
}
