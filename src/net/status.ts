/**
 * The status a client sees for an upstream's error status: one mapping for HTTP answers and
 * refused websocket upgrades.
 *
 * @module
 */

/** The status the client sees for an upstream's error status. */
export function mapStatus(status: number): number {
  if ([400, 401, 403, 404, 413, 429].includes(status)) return status;
  // 498 "invalid token" (Cohere, ArcGIS) is an authentication failure.
  if (status === 498) return 401;
  if (status === 422) return 400;
  if (status === 408 || status === 504 || status === 524) return 504;
  return 502;
}
