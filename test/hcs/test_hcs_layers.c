/* The layer folders of a Windows container (hcs_layers.h) on their own: what a rootfs mount may name, and
 * what mounting refuses before or while it calls vmcompute's layer functions (stubs here, no fake HCS). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "hcs_layers.h"

#define E_FAIL_HR ((hcs_hresult)0x80004005)

static int activated, prepared;
static hcs_hresult name_to_guid_hr;
static const char *mount_path; /* ASCII, widened by hand below; NULL: length 0 */

static hcs_hresult HCS_WINAPI st_name_to_guid(hcs_pcwstr name, hcs_guid *guid) {
  (void)name;
  memset(guid, 0, sizeof *guid);
  return name_to_guid_hr;
}
static hcs_hresult HCS_WINAPI st_activate(const hcs_driver_info *info, hcs_pcwstr id) {
  (void)info, (void)id;
  activated++;
  return 0;
}
static hcs_hresult HCS_WINAPI st_deactivate(const hcs_driver_info *info, hcs_pcwstr id) {
  (void)info, (void)id;
  activated--;
  return 0;
}
static hcs_hresult HCS_WINAPI st_prepare(const hcs_driver_info *info, hcs_pcwstr id, const hcs_layer_descriptor *l,
                                         hcs_dword n) {
  (void)info, (void)id, (void)l, (void)n;
  prepared++;
  return 0;
}
static hcs_hresult HCS_WINAPI st_unprepare(const hcs_driver_info *info, hcs_pcwstr id) {
  (void)info, (void)id;
  prepared--;
  return 0;
}
static hcs_hresult HCS_WINAPI st_mount_path(const hcs_driver_info *info, hcs_pcwstr id, size_t *len, hcs_wchar *buf) {
  (void)info, (void)id;
  size_t n = mount_path ? strlen(mount_path) : 0;
  if (!buf) {
    *len = n ? n + 1 : 0;
    return 0;
  }
  for (size_t i = 0; i < n; i++) buf[i] = (hcs_wchar)(unsigned char)mount_path[i]; /* ASCII is UTF-16's low byte */
  buf[n] = 0;
  return 0;
}

static hcs_api api(void) {
  hcs_api a;
  memset(&a, 0, sizeof a);
  a.NameToGuid = st_name_to_guid;
  a.ActivateLayer = st_activate;
  a.DeactivateLayer = st_deactivate;
  a.PrepareLayer = st_prepare;
  a.UnprepareLayer = st_unprepare;
  a.GetLayerMountPath = st_mount_path;
  return a;
}

static void test_from_mounts(void **state) {
  (void)state;
  cs_err err;
  assert_null(hcs_layers_from_mounts(NULL, 0, &err)); /* none: not an error */
  rt_mount two[2] = {{.type = "windows-layer", .source = "C:\\l\\s"}, {.type = "windows-layer", .source = "C:\\l\\t"}};
  assert_null(hcs_layers_from_mounts(two, 2, &err));
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "2 mounts given"));
  rt_mount bind = {.type = "bind", .source = "/x"};
  assert_null(hcs_layers_from_mounts(&bind, 1, &err));
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "mount type bind is not supported"));
  rt_mount notype = {.source = "/x"};
  assert_null(hcs_layers_from_mounts(&notype, 1, &err));
  assert_non_null(strstr(err.msg, "(none)"));
  rt_mount nosrc = {.type = "windows-layer", .source = ""};
  assert_null(hcs_layers_from_mounts(&nosrc, 1, &err));
  assert_non_null(strstr(err.msg, "without a source"));
  const char *bad_opts[] = {"rw", "parentLayerPaths=[1]"};
  rt_mount bad = {.type = "windows-layer", .source = "C:\\l\\s", .options = bad_opts, .n_options = 2};
  assert_null(hcs_layers_from_mounts(&bad, 1, &err));
  assert_non_null(strstr(err.msg, "not a JSON array of strings"));
  const char *junk_opts[] = {"parentLayerPaths=[\"a\""};
  rt_mount junk = {.type = "windows-layer", .source = "C:\\l\\s", .options = junk_opts, .n_options = 1};
  assert_null(hcs_layers_from_mounts(&junk, 1, &err));
  assert_non_null(strstr(err.msg, "not a JSON array of strings: "));
  /* a base layer alone: the scratch only */
  rt_mount base = {.type = "windows-layer", .source = "C:\\l\\s"};
  json_t *f = hcs_layers_from_mounts(&base, 1, &err);
  assert_int_equal(json_array_size(f), 1);
  assert_string_equal(json_string_value(json_array_get(f, 0)), "C:\\l\\s");
  json_decref(f);
}

static void test_mount_refusals(void **state) {
  (void)state;
  cs_err err;
  char *vol = (char *)"untouched";
  hcs_api a = api();
  assert_int_equal(hcs_layers_mount(&a, NULL, 0, &vol, &err), -1);
  assert_null(vol);
  assert_non_null(strstr(err.msg, "no layer folders"));
  const char *one[] = {"C:\\layers\\scratch"};
  hcs_api none;
  memset(&none, 0, sizeof none);
  assert_int_equal(hcs_layers_mount(&none, one, 1, &vol, &err), -1);
  assert_int_equal(err.code, CS_UNIMPLEMENTED);
  assert_non_null(strstr(err.msg, "vmcompute.dll has no layer functions"));
  /* not an absolute folder path: nothing is activated */
  const char *rel[] = {"scratch"};
  assert_int_equal(hcs_layers_mount(&a, rel, 1, &vol, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "layer scratch: not an absolute layer folder path"));
  assert_int_equal(hcs_layers_unmount(&a, "scratch", &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  /* a parent HCS cannot name, and a parent whose path is bad */
  const char *two[] = {"C:\\layers\\base", "C:\\layers\\scratch"};
  name_to_guid_hr = E_FAIL_HR;
  assert_int_equal(hcs_layers_mount(&a, two, 2, &vol, &err), -1);
  assert_non_null(strstr(err.msg, "NameToGuid"));
  assert_non_null(strstr(err.msg, "layer C:\\layers\\base"));
  name_to_guid_hr = 0;
  const char *badparent[] = {"base\\", "C:\\layers\\scratch"};
  assert_int_equal(hcs_layers_mount(&a, badparent, 2, &vol, &err), -1);
  assert_non_null(strstr(err.msg, "not an absolute layer folder path"));
  assert_int_equal(activated, 0);
  /* GetLayerMountPath answering nothing: a failure, and everything undone */
  mount_path = NULL;
  assert_int_equal(hcs_layers_mount(&a, two, 2, &vol, &err), -1);
  assert_int_equal(err.code, CS_INTERNAL);
  assert_non_null(strstr(err.msg, "no mount path"));
  assert_int_equal(activated, 0);
  assert_int_equal(prepared, 0);
}

/* The volume as HCS wants it: with the trailing backslash GetLayerMountPath leaves off; undone by unmount. */
static void test_mount_volume(void **state) {
  (void)state;
  cs_err err;
  hcs_api a = api();
  const char *two[] = {"C:\\layers\\base\\", "C:\\layers\\scratch"};
  char *vol = NULL;
  mount_path = "\\\\?\\Volume{1234}";
  assert_int_equal(hcs_layers_mount(&a, two, 2, &vol, &err), 0);
  assert_string_equal(vol, "\\\\?\\Volume{1234}\\");
  free(vol);
  assert_int_equal(activated, 1);
  assert_int_equal(prepared, 1);
  mount_path = "\\\\?\\Volume{5678}\\";
  assert_int_equal(hcs_layers_mount(&a, two, 2, &vol, &err), 0);
  assert_string_equal(vol, "\\\\?\\Volume{5678}\\");
  free(vol);
  assert_int_equal(hcs_layers_unmount(&a, "C:\\layers\\scratch", &err), 0);
  assert_int_equal(hcs_layers_unmount(&a, "C:\\layers\\scratch", &err), 0);
  assert_int_equal(activated, 0);
  assert_int_equal(prepared, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_from_mounts),
      cmocka_unit_test(test_mount_refusals),
      cmocka_unit_test(test_mount_volume),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
