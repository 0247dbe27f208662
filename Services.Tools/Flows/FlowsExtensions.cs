using AiAssistant.ServiceDefaults.Data;

namespace AiAssistant.Services.Tools.Flows;

public static class FlowsExtensions
{
    /// <summary>Flows: their tables, the store every change goes through, the runner and its operation types, the schedule's looker for due ticks.</summary>
    public static IHostApplicationBuilder AddFlows(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IDatabaseSchema, FlowTables>();
        builder.Services.AddSingleton<IDatabaseSchema, NotificationTables>();
        builder.Services.AddSingleton<FlowStore>();
        builder.Services.AddSingleton<FlowRunner>();
        builder.Services.AddSingleton<FlowTriggers>();
        builder.Services.AddSingleton<FlowEvents>();
        builder.Services.Configure<FlowOptions>(builder.Configuration.GetSection(FlowOptions.Section));
        builder.Services.AddSingleton<FlowSchedules>();
        builder.Services.AddHostedService<FlowScheduler>();
        builder.Services.AddSingleton<Content.Items.IWriteFollower>(sp => sp.GetRequiredService<FlowEvents>());
        builder.Services.AddSingleton<Content.Items.IWriteFilter, FlowFilters>();
        builder.Services.AddSingleton<IFlowOperation, ConditionOperation>();
        builder.Services.AddSingleton<IFlowOperation, ItemCreateOperation>();
        builder.Services.AddSingleton<IFlowOperation, ItemReadOperation>();
        builder.Services.AddSingleton<IFlowOperation, ItemUpdateOperation>();
        builder.Services.AddSingleton<IFlowOperation, ItemDeleteOperation>();
        builder.Services.AddSingleton<IFlowOperation, LogOperation>();
        builder.Services.AddSingleton<IFlowOperation, TransformOperation>();
        builder.Services.AddSingleton<IFlowOperation, ThrowErrorOperation>();
        builder.Services.AddSingleton<IFlowOperation, SleepOperation>();
        builder.Services.AddSingleton<IFlowOperation, TriggerOperation>();
        builder.Services.AddSingleton<IFlowOperation, RequestOperation>();
        builder.Services.AddSingleton<IFlowOperation, ExecOperation>();
        builder.Services.AddSingleton<IFlowOperation, JsonWebTokenOperation>();
        builder.Services.AddSingleton<IFlowOperation, NotificationOperation>();
        return builder;
    }
}
