using AiAssistant.ServiceDefaults.Data;
using AiAssistant.Services.Tools.ToolRegistry;

namespace AiAssistant.Services.Tools.AssistantTools;

public static class AssistantToolsExtensions
{
    /// <summary>
    /// The assistant's tools: each tool's handler (its data is <c>AssistantTools/&lt;name&gt;/tool.json</c>), the
    /// registry that joins them, and the approvals it signs.
    /// </summary>
    public static IServiceCollection AddAssistantTools(this IServiceCollection services)
    {
        services.AddSingleton<ToolApprovals>();
        services.AddSingleton<IDatabaseSchema>(sp => sp.GetRequiredService<ToolApprovals>());
        services.AddSingleton<IToolHandler, SchemaTool>();
        services.AddSingleton<IToolHandler, SystemPromptTool>();
        services.AddSingleton<IToolHandler, ItemsTool>();
        services.AddSingleton<IToolHandler, FilesTool>();
        services.AddSingleton<IToolHandler, FoldersTool>();
        services.AddSingleton<IToolHandler, AssetsTool>();
        services.AddSingleton<IToolHandler, CollectionsTool>();
        services.AddSingleton<IToolHandler, FieldsTool>();
        services.AddSingleton<IToolHandler, RelationsTool>();
        services.AddSingleton<IToolHandler, FlowsTool>();
        services.AddSingleton<IToolHandler, OperationsTool>();
        services.AddSingleton<IToolHandler, TriggerFlowTool>();
        services.AddSingleton<ToolRegistry.ToolRegistry>();
        return services;
    }
}
