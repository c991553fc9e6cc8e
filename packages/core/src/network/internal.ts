/** Pure helpers of the lab features, exported (as `@nodes/core/internal/labs`) for unit tests only. */
export { freeSubnet, overlaps, parseIpv4Cidr } from './subnets.js';
export { bindingsOf, hostPortsOf, nodePortsOf } from './node-ports.js';
export { parseListing } from '../files/listing.js';
