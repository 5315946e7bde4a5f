import { packageVitestConfig } from '../../tools/vitest.shared.js'

export default packageVitestConfig()
