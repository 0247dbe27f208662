using AiAssistant.Tests.Infrastructure;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>
/// The MCP server at <c>/mcp</c> driven through the gateway by the official TypeScript client
/// (<c>@modelcontextprotocol/sdk</c>): runs <c>tests/mcp/mcp.test.mjs</c>, which makes its own users, grants,
/// collections and prompts as the admin and turns MCP on and off through <c>/settings</c>.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class McpClientTests(EndToEndFixture e2e)
{
    [Fact]
    public async Task The_mcp_client_suite_passes_against_the_gateway()
    {
        try
        {
            await NodeSuite.RunAsync("mcp", "mcp.test.mjs", "@modelcontextprotocol/sdk",
                new Dictionary<string, string> { ["GATEWAY_URL"] = e2e.GatewayUrl, ["ADMIN_TOKEN"] = e2e.AdminToken });
        }
        finally
        {
            // the other tests expect the defaults, whatever the suite left behind
            await e2e.PatchSettingsAsync(new
            {
                mcp_enabled = false, mcp_allow_deletes = false, mcp_prompts_collection = (string?)null,
                mcp_system_prompt_enabled = true, mcp_system_prompt = (string?)null,
            });
        }
    }
}
