using AiAssistant.Tests.Infrastructure;
using Xunit;

namespace AiAssistant.Tests.Web;

/// <summary>
/// The web app's own logic, where it lives in the browser (Web/src/**/*.test.ts, Vitest): the message window trimmed
/// to the model's context, tool modes and approvals, chat errors, markdown rendered inert.
/// </summary>
public sealed class WebComponentTests
{
    [Fact]
    public Task The_vitest_suite_passes() =>
        NodeSuite.RunAsync("Web", ["node_modules/vitest/vitest.mjs", "run"], "vitest", new Dictionary<string, string> { ["CI"] = "true" });
}
