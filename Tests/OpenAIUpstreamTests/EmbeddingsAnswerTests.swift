import Foundation
import PromptlineCore
import Testing
@testable import OpenAIUpstream

@Suite struct EmbeddingsAnswerTests {
    static func base64(_ floats: [Float]) -> String {
        var data = Data()
        for value in floats { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data.base64EncodedString()
    }

    @Test func readsBase64AndFloatsByIndex() throws {
        let json = """
            {"object":"list","data":[
              {"object":"embedding","index":1,"embedding":[0.5,-0.25]},
              {"object":"embedding","index":0,"embedding":"\(Self.base64([1, 0.125]))"}
            ],"usage":{"prompt_tokens":7,"total_tokens":7}}
            """
        let embeddings = try OpenAIClient.embeddings(in: Data(json.utf8), count: 2)
        #expect(embeddings.vectors == [[1, 0.125], [0.5, -0.25]])
        #expect(embeddings.promptTokens == 7)
    }

    @Test func aMissingVectorIsAnInvalidResponse() throws {
        let json = #"{"data":[{"index":0,"embedding":[1]}]}"#
        #expect { try OpenAIClient.embeddings(in: Data(json.utf8), count: 2) } throws: { error in
            (error as? UpstreamError)?.code == .invalidResponse && "\(error)".contains("1 of 2")
        }
    }

    @Test func anIndexOutOfPlaceIsAnInvalidResponse() throws {
        let json = #"{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[2]}]}"#
        #expect { try OpenAIClient.embeddings(in: Data(json.utf8), count: 2) } throws: { error in
            (error as? UpstreamError)?.code == .invalidResponse
        }
    }

    @Test func anErrorBodyIsTheUpstreamsError() throws {
        let json = #"{"error":{"message":"no such model","type":"invalid_request_error"}}"#
        #expect { try OpenAIClient.embeddings(in: Data(json.utf8), count: 1) } throws: { error in
            "\(error)".contains("no such model")
        }
    }

    @Test func base64ThatIsNotFloat32IsRefused() throws {
        let json = #"{"data":[{"index":0,"embedding":"AAE="}]}"#
        #expect { try OpenAIClient.embeddings(in: Data(json.utf8), count: 1) } throws: { error in
            (error as? UpstreamError)?.code == .invalidResponse
        }
    }
}
