#include "fake_hns_config.h"

#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "fake_common.h"

static json_t *load(const char **err) {
  *err = NULL;
  WCHAR *path = fake_env_path("CSHIM_FAKEHCS_CONFIG");
  if (!path) return json_array();
  json_t *list = NULL;
  HANDLE f = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                         OPEN_EXISTING, 0, NULL);
  free(path);
  if (f == INVALID_HANDLE_VALUE) {
    *err = "CSHIM_FAKEHCS_CONFIG: cannot open the file";
    return NULL;
  }
  LARGE_INTEGER size;
  char *buf = GetFileSizeEx(f, &size) && size.QuadPart < (1 << 24) ? malloc((size_t)size.QuadPart + 1) : NULL;
  DWORD got = 0;
  if (buf && ReadFile(f, buf, (DWORD)size.QuadPart, &got, NULL)) {
    buf[got] = '\0';
    json_t *doc = json_loads(buf, JSON_REJECT_DUPLICATES, NULL);
    list = json_incref(json_object_get(doc, "Endpoints"));
    json_decref(doc);
    if (!json_is_array(list)) {
      json_decref(list);
      list = NULL;
      *err = "CSHIM_FAKEHCS_CONFIG: want {\"Endpoints\": [...]}";
    }
  } else {
    *err = "CSHIM_FAKEHCS_CONFIG: cannot read the file";
  }
  free(buf);
  CloseHandle(f);
  return list;
}

json_t *fake_hns_endpoints(const char **err) { return load(err); }

json_t *fake_hns_endpoint(const char *id, const char **err) {
  json_t *list = load(err), *found = NULL;
  for (size_t i = 0; list && i < json_array_size(list); i++) {
    json_t *e = json_array_get(list, i);
    const char *eid = json_string_value(json_object_get(e, "Id"));
    if (eid && _stricmp(eid, id) == 0) {
      found = json_incref(e);
      break;
    }
  }
  json_decref(list);
  return found;
}
