import Testing
@Test func placeholderWorkerTests() { #expect(Bool(true)) }
