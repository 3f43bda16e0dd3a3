/// How an instance was obtained for a request, as `X-Pipsqueak-Start` reports it: an idle or paused instance
/// (`warm`), a fork of a zygote (`import`), a new interpreter (`fresh`), or a new interpreter after installing
/// missing packages (`install`).
public enum StartKind: String, Sendable, Codable, CaseIterable {
    case warm, `import`, fresh, install
}
