using AiAssistant.ServiceDefaults.Data;
using AiAssistant.Services.Tools.Content.Files;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.Content.Permissions;
using AiAssistant.Services.Tools.Content.Schema;
using AiAssistant.Services.Tools.Flows;

namespace AiAssistant.Services.Tools.Content;

public static class ContentStoreExtensions
{
    /// <summary>
    /// The content store: the schema (tables, this replica's snapshot and its watcher, changes), items (reads, writes
    /// with their activity, <see cref="ItemsService"/>), files, flows, and the permission engine every read and write goes through.
    /// </summary>
    public static IHostApplicationBuilder AddContentStore(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IDatabaseSchema, SchemaTables>();
        builder.Services.AddSingleton<SchemaCache>();
        builder.Services.AddHostedService<SchemaVersionWatcher>();
        builder.Services.AddSingleton<SchemaStore>();
        builder.Services.AddSingleton<ItemsReader>();
        builder.Services.AddSingleton<IDatabaseSchema, ActivityTables>();
        builder.Services.AddSingleton<ItemsWriter>();
        builder.Services.AddSingleton<ItemsService>();
        builder.AddFiles();
        builder.AddFlows();
        builder.Services.AddSingleton<PermissionEngine>();
        builder.Services.AddSingleton<IPermissionSource>(sp => sp.GetRequiredService<PermissionEngine>());
        return builder;
    }
}
