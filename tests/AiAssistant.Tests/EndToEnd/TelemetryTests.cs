using System.Diagnostics;
using System.Security.Cryptography;
using AiAssistant.Contracts;
using AiAssistant.ProviderSimulator;
using AiAssistant.Tests.Infrastructure;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>What the services export over OTLP (to the dashboard under ./run.sh; here to the test's receiver).</summary>
[Collection(EndToEndCollection.Name)]
public sealed class TelemetryTests(EndToEndFixture e2e)
{
    [Fact]
    public async Task A_chat_turn_with_a_tool_call_is_one_exported_trace_across_gateway_chat_and_tools_without_the_key()
    {
        await e2e.UseNewKeyAsync();
        var traceId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        using var client = e2e.Client(e2e.GatewayUrl);
        client.DefaultRequestHeaders.Add("traceparent", $"00-{traceId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}-01");
        e2e.Simulator.Enqueue(SimulatedReply.ToolCalls(("schema", "{}")), SimulatedReply.Text("Done."));
        var stream = await EndToEndFixture.ChatAsync(client, EndToEndFixture.ChatBody("Which collections are there?", "items"));
        Assert.Equal("Done.", stream.Text);

        // Each service exports its batch every second (the AppHost's development settings).
        string[] expected = [ResourceNames.Gateway, ResourceNames.Chat, ResourceNames.Tools];
        List<ExportedSpan> trace = [];
        var wait = Stopwatch.StartNew();
        while (wait.Elapsed < TimeSpan.FromSeconds(20))
        {
            trace = e2e.App.Telemetry.Spans().Where(s => s.TraceId == traceId).ToList();
            // both provider calls: a replica's spans of one turn may leave in two exports
            if (expected.All(service => trace.Any(s => s.Service == service)) && trace.Count(s => s.Name.StartsWith("chat ", StringComparison.Ordinal)) >= 2)
                break;
            await Task.Delay(250);
        }
        var seen = string.Join(", ", trace.Select(s => $"{s.Service}: {s.Name}"));
        foreach (var service in expected)
            Assert.True(trace.Any(s => s.Service == service), $"no span of {service} in the turn's trace; seen: {seen}");
        // Microsoft.Extensions.AI's span for the provider call ("chat {model}"), once per step of the tool loop
        Assert.True(trace.Count(s => s.Service == ResourceNames.Chat && s.Name == "chat sim-model") == 2, $"seen: {seen}");

        string[] keys;
        lock (e2e.KeysUsed) keys = [.. e2e.KeysUsed];
        Assert.True(e2e.App.Telemetry.ReceivedBytes > 0);
        foreach (var key in keys)
            Assert.Equal(0, e2e.App.Telemetry.CountContaining(key));
    }
}
