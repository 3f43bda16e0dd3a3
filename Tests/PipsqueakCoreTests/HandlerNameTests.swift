import PipsqueakCore
import Testing

@Suite struct HandlerNameTests {
    @Test(arguments: ["a", "hello-world", "H_1", String(repeating: "x", count: 64)])
    func acceptsValidNames(_ name: String) throws {
        #expect(try HandlerName(name).value == name)
    }

    @Test(arguments: ["", "a b", "../etc", "x/y", "é", String(repeating: "x", count: 65), "a.b"])
    func rejectsInvalidNames(_ name: String) {
        #expect(throws: PipsqueakError.self) { try HandlerName(name) }
        #expect(!HandlerName.isValid(name))
    }

    @Test func invalidNameIsA400() {
        do {
            _ = try HandlerName("no spaces")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidName)
            #expect(error.code.status == 400)
        }
    }
}
