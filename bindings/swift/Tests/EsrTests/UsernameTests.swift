import Esr
import XCTest

/// What an app checks on the device before any call to a server: usernames as typed at the
/// log-in screen, the username rule, and the masked mobile number.
final class UsernameTests: XCTestCase {
    func testParsesAUsernameAsTyped() throws {
        let parts = try parseUsername(text: " 297econroy01")
        XCTAssertEqual(
            parts, UsernameParts(username: "297ECONROY01", vpd: "297", stem: "ECONROY", sequence: 1))
    }

    func testRefusesAMalformedUsernameWithAMessage() {
        for text in ["", "\u{0}", "ECONROY01", String(repeating: "x", count: 1 << 20)] {
            let message = assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
                _ = try parseUsername(text: text)
            }
            XCTAssertFalse(message.isEmpty)
        }
    }

    func testUsernameStemTransliteratesAndDropsPunctuation() throws {
        XCTAssertEqual(try usernameStem(givenName: "Seán", surname: "O'Brien"), "SOBRIEN")
        assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            _ = try usernameStem(givenName: "", surname: "")
        }
    }

    func testMasksAMobileNumberAndNeverEchoesIt() throws {
        XCTAssertEqual(try maskMobileNumber(text: "+44 7700 900374"), "xxxxxxx374")
        XCTAssertEqual(try maskMobileNumber(text: "07700 900374"), "xxxxxxx374")
        let message = assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            _ = try maskMobileNumber(text: "0191 496 0123")
        }
        XCTAssertFalse(message.contains("4960123"), message)
    }

    func testNamesTheFunctionsAndUrps() {
        XCTAssertTrue(functionNames().contains("Team Compliance"))
        XCTAssertTrue(urpNames().contains("Employee Self Service"))
        XCTAssertEqual(functionName(function: .teamCompliance), "Team Compliance")
        XCTAssertEqual(urpName(urp: .supervisorSelfService), "Supervisor Self Service")
        XCTAssertEqual(try functionNamed(name: "team compliance"), .teamCompliance)
        XCTAssertEqual(try urpNamed(name: "Employee Self Service"), .employeeSelfService)
        XCTAssertEqual(allFunctions().count, functionNames().count)
        XCTAssertEqual(allUrps().map { urpName(urp: $0) }, urpNames())
        XCTAssertTrue(allFunctions().contains(.eLearning))
    }
}
