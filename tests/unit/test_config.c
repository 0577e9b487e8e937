/* Unit tests: config discovery, profiles, precedence and strictness. */
#include "testutil.h"

#include <sys/stat.h>

#include "../../lib/config.h"
#include "../../lib/ledger.h"

static char *dir;
static char cwd[4096];

static const char *vars[] = {
	"HANFW_CONFIG", "HANFW_PROFILE", "XDG_CONFIG_HOME", "HANFW_USER_EUI", "HANFW_DCC_EUI",
	"HANFW_HUB_CAPACITY", "HANFW_ENDPOINT", "HANFW_GBCS_SIGNING_KEY",
};

static int setup(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	dir = make_tmpdir();
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	setenv("HOME", dir, 1);
	return 0;
}

static int teardown(void **state)
{
	size_t i;

	(void)state;
	assert_int_equal(chdir(cwd), 0);
	rm_rf(dir);
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	return 0;
}

static void put(const char *name, const char *text)
{
	write_file(name, text, strlen(text));
}

static void defaults_without_file(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_config *c = NULL;

	(void)state;
	assert_int_equal(hfw_config_load(&c, NULL, &err), 0);
	assert_string_equal(hfw_config_file(c), "");
	assert_string_equal(hfw_config_get(c, HFW_SET_DCC_EUI), "90-B3-D5-1F-30-00-00-02");
	assert_int_equal(hfw_config_origin(c, HFW_SET_DCC_EUI), HFW_ORIGIN_DEFAULT);
	assert_int_equal(hfw_config_get_uint(c, HFW_SET_HUB_CAPACITY), 750000);
	assert_null(hfw_config_get(c, HFW_SET_USER_EUI));
	hfw_config_free(c);
}

static void precedence(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_config *c = NULL;

	(void)state;
	put("hanfw.json", "{\"default_profile\":\"a\",\"profiles\":{"
	    "\"a\":{\"user_eui\":\"90b3d51f30010000\",\"hub_capacity\":1000,\"gbcs_signing_key\":\"keys/ds.key\"},"
	    "\"b\":{\"user_eui\":\"90-B3-D5-1F-30-03-00-00\"}}}");
	assert_int_equal(hfw_config_load(&c, NULL, &err), 0);
	assert_string_equal(hfw_config_profile(c), "a");
	assert_string_equal(hfw_config_get(c, HFW_SET_USER_EUI), "90-B3-D5-1F-30-01-00-00");
	assert_int_equal(hfw_config_origin(c, HFW_SET_USER_EUI), HFW_ORIGIN_FILE);
	assert_string_equal(hfw_config_get(c, HFW_SET_GBCS_SIGNING_KEY), "./keys/ds.key");
	assert_int_equal(hfw_config_get_uint(c, HFW_SET_HUB_CAPACITY), 1000);
	hfw_config_free(c);

	setenv("HANFW_HUB_CAPACITY", "2000", 1);
	setenv("HANFW_PROFILE", "b", 1);
	assert_int_equal(hfw_config_load(&c, NULL, &err), 0);
	assert_string_equal(hfw_config_profile(c), "b");
	assert_string_equal(hfw_config_get(c, HFW_SET_USER_EUI), "90-B3-D5-1F-30-03-00-00");
	assert_int_equal(hfw_config_get_uint(c, HFW_SET_HUB_CAPACITY), 2000);
	assert_int_equal(hfw_config_origin(c, HFW_SET_HUB_CAPACITY), HFW_ORIGIN_ENV);
	assert_int_equal(hfw_config_set_flag(c, HFW_SET_HUB_CAPACITY, "3000", &err), 0);
	assert_int_equal(hfw_config_get_uint(c, HFW_SET_HUB_CAPACITY), 3000);
	assert_int_equal(hfw_config_origin(c, HFW_SET_HUB_CAPACITY), HFW_ORIGIN_FLAG);
	assert_int_equal(hfw_config_set_flag(c, HFW_SET_HUB_CAPACITY, "-1", &err), HFW_ECONFIG);
	hfw_config_free(c);

	/* An explicit profile beats the environment's. */
	{
		struct hfw_config_options o = { NULL, "a" };

		assert_int_equal(hfw_config_load(&c, &o, &err), 0);
		assert_string_equal(hfw_config_profile(c), "a");
		hfw_config_free(c);
	}
}

static void discovery_order(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_config_options o = { "explicit.json", NULL };
	hfw_config *c = NULL;

	(void)state;
	assert_int_equal(mkdir("xdg", 0700), 0);
	assert_int_equal(mkdir("xdg/hanfw", 0700), 0);
	put("xdg/hanfw/config.json", "{\"profiles\":{\"x\":{\"schema_version\":\"xdg\"}}}");
	put("env.json", "{\"profiles\":{\"e\":{\"schema_version\":\"env\"}}}");
	put("explicit.json", "{\"profiles\":{\"f\":{\"schema_version\":\"flag\"}}}");
	setenv("XDG_CONFIG_HOME", "xdg", 1);
	assert_int_equal(hfw_config_load(&c, NULL, &err), 0);
	assert_string_equal(hfw_config_get(c, HFW_SET_SCHEMA_VERSION), "xdg");
	hfw_config_free(c);
	put("hanfw.json", "{\"profiles\":{\"l\":{\"schema_version\":\"local\"}}}");
	assert_int_equal(hfw_config_load(&c, NULL, &err), 0);
	assert_string_equal(hfw_config_get(c, HFW_SET_SCHEMA_VERSION), "local");
	hfw_config_free(c);
	setenv("HANFW_CONFIG", "env.json", 1);
	assert_int_equal(hfw_config_load(&c, NULL, &err), 0);
	assert_string_equal(hfw_config_get(c, HFW_SET_SCHEMA_VERSION), "env");
	hfw_config_free(c);
	assert_int_equal(hfw_config_load(&c, &o, &err), 0);
	assert_string_equal(hfw_config_get(c, HFW_SET_SCHEMA_VERSION), "flag");
	assert_string_equal(hfw_config_file(c), "explicit.json");
	hfw_config_free(c);
	o.path = "missing.json";
	assert_int_equal(hfw_config_load(&c, &o, &err), HFW_ECONFIG);
	assert_null(c);
}

static void expect_config_error(const char *text, const char *msg)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_config_options o = { "bad.json", NULL };
	hfw_config *c = NULL;

	put("bad.json", text);
	assert_int_equal(hfw_config_load(&c, &o, &err), HFW_ECONFIG);
	assert_null(c);
	if (!strstr(err.text, msg))
		fail_msg("expected \"%s\" in \"%s\"", msg, err.text);
}

static void strictness(void **state)
{
	(void)state;
	expect_config_error("{", "line 1");
	expect_config_error("[]", "is not a JSON object");
	expect_config_error("{\"profile\":{}}", "unknown member 'profile'");
	expect_config_error("{\"profiles\":{\"a\":{\"user_euid\":\"x\"}}}", "unknown setting 'user_euid'");
	expect_config_error("{\"profiles\":{\"a\":{\"user_eui\":\"90-B3\"}}}", "user_eui '90-B3' is not an EUI-64");
	expect_config_error("{\"profiles\":{\"a\":{\"endpoint\":\"ftp://x\"}}}", "not an http:// or https:// URL");
	expect_config_error("{\"profiles\":{\"a\":{\"hub_capacity\":\"big\"}}}", "must be a whole number");
	expect_config_error("{\"profiles\":{\"a\":{\"ledger\":7}}}", "must be a string");
	expect_config_error("{\"profiles\":{\"a\":{},\"b\":{}}}", "several profiles and no default_profile");
	expect_config_error("{\"default_profile\":\"z\",\"profiles\":{\"a\":{}}}", "has no profile 'z'");
	expect_config_error("{\"profiles\":{\"a\":{\"dcc_eui\":\"1\"},\"a\":{}}}", "duplicate");
	setenv("HANFW_USER_EUI", "nope", 1);
	expect_config_error("{}", "environment HANFW_USER_EUI: user_eui 'nope' is not an EUI-64");
	unsetenv("HANFW_USER_EUI");
}

/* hanfw config show never prints a PostgreSQL password a ledger URI carries. */
static void ledger_password_redacted(void **state)
{
	static const char *const cases[][2] = {
		{ "/var/lib/hanfw/ledger.sqlite", "/var/lib/hanfw/ledger.sqlite" },
		{ "postgresql://db.example/hanfw?sslmode=verify-full", "postgresql://db.example/hanfw?sslmode=verify-full" },
		{ "postgresql://hanfw@db.example/hanfw", "postgresql://hanfw@db.example/hanfw" },
		{ "postgresql://hanfw:s3cret@db.example:5432/hanfw", "postgresql://hanfw:***@db.example:5432/hanfw" },
		{ "postgres://u:p@ss@h/db", "postgres://u:***@h/db" },
		{ "postgresql:///hanfw?host=/run/pg&password=s3cret", "postgresql:///hanfw?host=/run/pg&password=***" },
		{ "postgresql:///d?password=a&sslmode=require&password=b#x", "postgresql:///d?password=***&sslmode=require&password=***" },
		/* libpq's reading: ? and # end nothing in the user information or a value; keys are percent-decoded. */
		{ "postgresql://u:pa?ss@h/db", "postgresql://u:***@h/db" },
		{ "postgresql://u:p#w@h/d", "postgresql://u:***@h/d" },
		{ "postgresql:///d?password=ab#cd", "postgresql:///d?password=***" },
		{ "postgresql:///d?pass%77ord=s3cret&sslmode=require", "postgresql:///d?pass%77ord=***&sslmode=require" },
		{ "postgresql://h/d?sslpassword=keypw", "postgresql://h/d?sslpassword=***" },
		{ "postgresql://u:x@[::1]:5432/d", "postgresql://u:***@[::1]:5432/d" },
		{ "postgresql://h?password=x", "postgresql://h?password=***" },
		{ "postgresql:///d?passwords=keep&password=s3cret", "postgresql:///d?passwords=keep&password=***" },
		{ "postgresql:///d?application_name=x&xpassword=hid", "postgresql:///d?application_name=x&xpassword=***" },
		{ "postgresql://u:x@h/d?password=y", "postgresql://u:***@h/d?password=***" },
		{ "postgresql://h/d?options=-cx%3Dy", "postgresql://h/d?options=-cx%3Dy" },
	};
	char out[256], small[12];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hfw_ledger_redact(cases[i][0], out, sizeof(out));
		assert_string_equal(out, cases[i][1]);
	}
	/* Cut short, never overrun, always terminated. */
	hfw_ledger_redact("postgresql://u:secret@h/d", small, sizeof(small));
	assert_string_equal(small, "postgresql:");
	hfw_ledger_redact(NULL, out, sizeof(out));
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(defaults_without_file, setup, teardown),
		cmocka_unit_test_setup_teardown(precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(discovery_order, setup, teardown),
		cmocka_unit_test_setup_teardown(strictness, setup, teardown),
		cmocka_unit_test(ledger_password_redacted),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
