// The CLI as a library: `run` for embedding, the dead-letter operations the web console reuses, and `tapStream`,
// the live stream of topics read by an ephemeral group that disturbs no service (what `herald tail` prints).
export { run } from './main.ts';
export * from './dead-letter-ops.ts';
export { isEventDefinition, loadContractGroups, loadContracts } from './contracts.ts';
export {
  canTapFromBeginning,
  matchesFilter,
  tapGroupName,
  tapStream,
  toTapEvent,
  TAP_GROUP_PREFIX,
  type Tap,
  type TapEvent,
  type TapFilter,
  type TapOptions,
} from './tap.ts';
export { formatJsonLine, formatPrettyLine, tapEventJson } from './tail-format.ts';
export {
  EPHEMERAL_GROUP_FOOTPRINT,
  removeEphemeralGroup,
  type EphemeralGroup,
  type GroupRemoval,
} from './ephemeral-group.ts';
export {
  buildOperatorEvent,
  CLI_SOURCE,
  publishOperatorEvent,
  type OperatorEvent,
  type OperatorPublication,
} from './publish-event.ts';
export { readGroupLag, type LagQuery, type LagReport } from './group-lag.ts';
export { connect, connectWithDetails, brokerUrl, type ConnectedTransport } from './connect.ts';
