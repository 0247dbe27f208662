using System.Text.Json;
using AiAssistant.Contracts.Tools;
using Grpc.Core;
using Microsoft.Extensions.AI;

namespace AiAssistant.Services.Chat.ToolLoop;

/// <summary>Server tools, listed and executed by the Tools service under the caller's identity.</summary>
public sealed class ToolExecutor(Tools.ToolsClient client, ILogger<ToolExecutor> logger)
{
    private static readonly TimeSpan ListCacheFor = TimeSpan.FromSeconds(5);
    private sealed record ToolList(DateTimeOffset At, IReadOnlyList<ToolDefinition> Tools);
    // Which tools exist depends on whether the caller is an admin (admin-only tools are invisible to others).
    private readonly ToolList?[] _cached = new ToolList?[2];

    /// <summary>The tool declarations the model gets: the root tool <c>schema</c> always, plus those requested.</summary>
    public async Task<IReadOnlyList<AIFunctionDeclaration>> DeclarationsAsync(IReadOnlyList<string> requested, Caller caller, CancellationToken ct)
    {
        var all = _cached[caller.Admin ? 1 : 0] is { } c && DateTimeOffset.UtcNow - c.At < ListCacheFor ? c.Tools : await RefreshAsync(caller, ct);
        var result = new List<AIFunctionDeclaration>();
        foreach (var tool in all)
            if (tool.Name == "schema" || requested.Contains(tool.Name))
            {
                using var schema = JsonDocument.Parse(tool.InputSchemaJson);
                result.Add(AIFunctionFactory.CreateDeclaration(tool.Name, tool.Description, schema.RootElement.Clone()));
            }
        return result;
    }

    private async Task<IReadOnlyList<ToolDefinition>> RefreshAsync(Caller caller, CancellationToken ct)
    {
        var reply = await client.ListToolsAsync(new ListToolsRequest { Caller = caller }, cancellationToken: ct);
        var tools = reply.Tools.ToList();
        _cached[caller.Admin ? 1 : 0] = new ToolList(DateTimeOffset.UtcNow, tools);
        return tools;
    }

    /// <summary>Runs one call; returns the output JSON and whether it is an error the model should see as such.</summary>
    public async Task<(string OutputJson, bool IsError)> ExecuteAsync(string name, string inputJson, Caller caller, CancellationToken ct)
    {
        try
        {
            var reply = await client.ExecuteToolAsync(new ExecuteToolRequest { Caller = caller, Name = name, InputJson = inputJson }, cancellationToken: ct);
            return (reply.OutputJson, reply.IsError);
        }
        catch (RpcException e)
        {
            logger.LogWarning("Tool {Tool} could not be executed: gRPC {Status}", name, e.StatusCode);
            return (JsonSerializer.Serialize(new { error = new { code = "SERVICE_UNAVAILABLE", message = "The tools service could not run the tool.", recoverable = true } }), true);
        }
    }
}
