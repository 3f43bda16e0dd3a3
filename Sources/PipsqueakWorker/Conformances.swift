import PipsqueakCache
import PipsqueakSandbox

/// A sandboxed handler instance is what the handler cache keeps (the cache itself knows no Linux mechanism).
extension Sandbox: CacheableInstance {}
