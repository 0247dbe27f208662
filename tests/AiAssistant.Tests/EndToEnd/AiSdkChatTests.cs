using AiAssistant.Tests.Infrastructure;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>
/// <c>/ai/chat</c> read by the AI SDK's own client (<c>tests/chat/chat.test.mjs</c>: the <c>ai</c> package's
/// <c>AbstractChat</c> with <c>DefaultChatTransport</c>): text streaming, the approval protocol as the browser runs
/// it — <c>approval-requested</c>, <c>addToolApprovalResponse</c>, the automatic resend, <c>output-available</c> or
/// <c>output-denied</c> — and a built-in provider's reasoning and usage (Anthropic, through the simulator).
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class AiSdkChatTests(EndToEndFixture e2e)
{
    [Fact]
    public async Task The_ai_sdk_client_suite_passes_against_the_gateway()
    {
        await e2e.UseNewKeyAsync();
        e2e.Simulator.ClearReplies();
        await NodeSuite.RunAsync("chat", "chat.test.mjs", "ai", new Dictionary<string, string>
        {
            ["GATEWAY_URL"] = e2e.GatewayUrl, ["ADMIN_TOKEN"] = e2e.AdminToken, ["SIM_URL"] = e2e.Simulator.Origin.ToString().TrimEnd('/'),
        });
    }
}
