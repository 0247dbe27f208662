using System.Text.Json;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Chat.Chat;
using Microsoft.Extensions.AI;
using Xunit;

namespace AiAssistant.Tests.Chat;

public class ChatRequestTests
{
    private const string Messages = """[{"id":"m1","role":"user","parts":[{"type":"text","text":"Hello"}]}]""";

    private static DirectusException Rejects(string json, string field)
    {
        using var doc = JsonDocument.Parse(json);
        var e = Assert.Throws<DirectusException>(() => ChatRequest.Parse(doc.RootElement));
        Assert.Equal(400, e.Status);
        Assert.Equal(field, e.Extensions!["field"]);
        return e;
    }

    [Fact]
    public void Empty_messages_is_the_reference_message() =>
        Assert.Equal("Invalid payload. \"messages\" must not be empty.",
            Rejects("""{"provider":"openai","model":"m","tools":[],"messages":[]}""", "messages").Message);

    [Fact]
    public void Tools_are_required() => Rejects("{\"provider\":\"openai\",\"model\":\"m\",\"messages\":" + Messages + "}", "tools");

    [Fact]
    public void Unknown_provider_is_named() =>
        Assert.Contains("provider", Rejects("{\"provider\":\"acme\",\"model\":\"m\",\"tools\":[],\"messages\":" + Messages + "}", "provider").Message);

    [Fact]
    public void Model_must_be_a_string() => Rejects("{\"provider\":\"openai\",\"model\":5,\"tools\":[],\"messages\":" + Messages + "}", "model");

    [Fact]
    public void Server_and_client_tools_are_told_apart()
    {
        using var doc = JsonDocument.Parse($$$"""
            {"provider":"openai-compatible","model":"m","messages":{{{Messages}}},
             "tools":["items",{"name":"ask_user","description":"Ask","inputSchema":{"type":"object"}}]}
            """);
        var r = ChatRequest.Parse(doc.RootElement);
        Assert.Equal(["items"], r.ServerTools);
        Assert.Equal("ask_user", Assert.Single(r.ClientTools).Name);
    }

    [Fact]
    public void Ui_messages_become_chat_messages_with_tool_calls_and_results()
    {
        using var doc = JsonDocument.Parse("""
            [{"id":"1","role":"user","parts":[{"type":"text","text":"List collections"}]},
             {"id":"2","role":"assistant","parts":[{"type":"step-start"},
               {"type":"tool-schema","toolCallId":"call_1","state":"output-available","input":{},"output":{"data":{"collections":["a"]}}},
               {"type":"text","text":"There is a."}]}]
            """);
        var messages = UiMessages.ToChatMessages(doc.RootElement);
        Assert.Equal(3, messages.Count);
        Assert.Equal(ChatRole.User, messages[0].Role);
        var call = Assert.Single(messages[1].Contents.OfType<FunctionCallContent>());
        Assert.Equal(("call_1", "schema"), (call.CallId, call.Name));
        var result = Assert.Single(messages[2].Contents.OfType<FunctionResultContent>());
        Assert.Contains("collections", (string)result.Result!);
    }

    [Fact]
    public void A_message_without_a_role_is_refused()
    {
        using var doc = JsonDocument.Parse("""[{"id":"1","parts":[]}]""");
        var e = Assert.Throws<DirectusException>(() => UiMessages.ToChatMessages(doc.RootElement));
        Assert.Contains("messages[0].role", e.Message);
    }
}
