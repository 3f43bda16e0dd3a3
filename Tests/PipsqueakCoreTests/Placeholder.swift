import Testing
@Test func placeholderPipsqueakCoreTests() { #expect(Bool(true)) }
