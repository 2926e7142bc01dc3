/* The HNS side of the fake serves endpoints configured in a JSON file, $CSHIM_FAKEHCS_CONFIG, read afresh at every
 * call so a test can change counters between two Stats:
 *   {"Endpoints": [{"Id": "<guid>", "Name": "...", "MacAddress": "00-15-5D-..", "VirtualNetworkName": "nat",
 *                   "Stats": {"BytesReceived": 1, "BytesSent": 2, "PacketsReceived": 3, "PacketsSent": 4,
 *                             "DroppedPacketsIncoming": 0, "DroppedPacketsOutgoing": 0}}]}
 * Stats member names are hcsshim's internal/hns EndpointStats (hnsendpoint.go); endpoint members its HNSEndpoint. */
#ifndef FAKE_HNS_CONFIG_H
#define FAKE_HNS_CONFIG_H

#include <jansson.h>

/* The endpoint object whose Id equals id (case-insensitive), a new reference; NULL if not configured. On a config
 * that does not load, NULL and *err names the problem (otherwise *err is NULL). */
json_t *fake_hns_endpoint(const char *id, const char **err);
/* Every configured endpoint (a new reference to the array; an empty array without a config). */
json_t *fake_hns_endpoints(const char **err);

#endif
