using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.Contracts.Tools;

namespace AiAssistant.Services.Tools.ToolRegistry;

/// <summary>Every tool by name; executes one and shapes its result the way the reference does.</summary>
public sealed class ToolRegistry(IEnumerable<ITool> tools, ILogger<ToolRegistry> logger)
{
    private readonly Dictionary<string, ITool> _tools = tools.ToDictionary(t => t.Name);

    public IEnumerable<ITool> List(IReadOnlyCollection<string> names) =>
        names.Count == 0 ? _tools.Values.OrderBy(t => t.Name) : _tools.Values.Where(t => names.Contains(t.Name)).OrderBy(t => t.Name);

    public async Task<ExecuteToolReply> ExecuteAsync(ExecuteToolRequest request, CancellationToken ct)
    {
        if (!_tools.TryGetValue(request.Name, out var tool))
            return Error("TOOL_NOT_FOUND", $"There is no tool named \"{request.Name}\".", recoverable: false);
        JsonElement input;
        try
        {
            using var doc = JsonDocument.Parse(string.IsNullOrWhiteSpace(request.InputJson) ? "{}" : request.InputJson);
            input = doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return Error("INVALID_PAYLOAD", "The tool input is not valid JSON.", recoverable: true);
        }
        try
        {
            var data = await tool.ExecuteAsync(input, request.Caller ?? new Caller(), ct);
            return new ExecuteToolReply { OutputJson = new JsonObject { ["data"] = data }.ToJsonString() };
        }
        catch (ToolException e)
        {
            return Error(e.Code, e.Message, e.Recoverable);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError("Tool {Tool} failed with {ExceptionType}: {StackTrace}", tool.Name, e.GetType().Name, e.StackTrace);
            return Error("INTERNAL_SERVER_ERROR", "The tool failed unexpectedly.", recoverable: false);
        }
    }

    private static ExecuteToolReply Error(string code, string message, bool recoverable) => new()
    {
        IsError = true,
        OutputJson = new JsonObject
        {
            ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["recoverable"] = recoverable },
        }.ToJsonString(),
    };
}
