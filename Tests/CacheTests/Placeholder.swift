import Testing
@Test func placeholderCacheTests() { #expect(Bool(true)) }
