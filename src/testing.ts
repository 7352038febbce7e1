/**
 * `effect-novelai/testing`: the local NovelAI simulator, for tests and offline use.
 *
 * @since 0.1.0
 */
export {
  /** @since 0.1.0 */
  type Fault,
  /** @since 0.1.0 */
  layer,
  /** @since 0.1.0 */
  layerClient,
  /** @since 0.1.0 */
  NovelAISimulator,
  /** @since 0.1.0 */
  type RecordedRequest,
  /** @since 0.1.0 */
  type Simulator,
  /** @since 0.1.0 */
  type SimulatorOptions,
  /** @since 0.1.0 */
  startSimulator
} from "./Simulator.js"
