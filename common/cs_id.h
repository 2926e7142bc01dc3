/* The one identifier rule of cshim: containerd's (pkg/identifiers): [A-Za-z0-9]+ joined by single '.', '_'
 * or '-', at most 76 characters.
 *
 * Checked once, where an id enters the shim: the task service, for every Task RPC that names a task or an
 * exec (shim/task_service.c: Create, Exec and the lookup all the others share), and the shim's `delete`
 * command. Everything below (runtime/rt.h's backends) receives only ids that passed it and does not check
 * them again: such an id names no path outside a bundle, fits CS_ID_MAX bytes, and is a valid Windows
 * compute system name. */
#ifndef CS_ID_H
#define CS_ID_H

#include "cs_err.h"

#define CS_ID_MAX 76

/* 0, or -1 with InvalidArgument naming what (e.g. "task id") and the id. */
int cs_id_check(const char *what, const char *id, cs_err *err);

#endif
