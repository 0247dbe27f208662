using AiAssistant.Tests.Infrastructure;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>The content store driven through the real <c>@directus/sdk</c>: <c>tests/sdk/content.test.mjs</c> against the gateway as the admin.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class DirectusSdkTests(EndToEndFixture e2e)
{
    [Fact]
    public Task The_sdk_suite_passes_against_the_gateway() =>
        NodeSuite.RunAsync("sdk", "content.test.mjs", "@directus/sdk", new Dictionary<string, string>
        {
            ["GATEWAY_URL"] = e2e.GatewayUrl, ["ADMIN_TOKEN"] = e2e.AdminToken,
        });
}
