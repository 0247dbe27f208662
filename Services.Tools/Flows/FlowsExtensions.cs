using AiAssistant.ServiceDefaults.Data;

namespace AiAssistant.Services.Tools.Flows;

public static class FlowsExtensions
{
    /// <summary>Flows: their tables, the store every change goes through.</summary>
    public static IHostApplicationBuilder AddFlows(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IDatabaseSchema, FlowTables>();
        builder.Services.AddSingleton<FlowStore>();
        return builder;
    }
}
