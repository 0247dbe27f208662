namespace AiAssistant.Services.Tools.Flows;

/// <summary>
/// The reference's grid for a flow's operations (its <c>operations/position.ts</c>, the flow editor's panel and gutter):
/// columns 18 apart and rows 16 apart from (19, 1), the trigger panel sitting at (1, 1). The chain from the first
/// operation reads left to right in run order — a resolve one column on in the same row, a reject one column on in a
/// new row below — then each operation nothing leads to starts a row of its own.
/// </summary>
public static class FlowLayout
{
    public const int ColumnSpacing = 18;
    public const int RowSpacing = 16;
    public const int OriginX = 19;
    public const int OriginY = 1;

    /// <summary>Sets every operation's position; answers whether any changed.</summary>
    public static bool Apply(Guid? entry, IReadOnlyList<OperationRecord> operations)
    {
        var byId = operations.ToDictionary(o => o.Id);
        var linked = operations.SelectMany(o => new[] { o.Resolve, o.Reject }).OfType<Guid>().ToHashSet();
        var positions = new Dictionary<Guid, (int X, int Y)>();
        var rows = 0;

        void Place(Guid? id, int depth, int row)
        {
            if (id is not { } key || !byId.TryGetValue(key, out var operation) || positions.ContainsKey(key)) return;
            positions[key] = (OriginX + depth * ColumnSpacing, OriginY + row * RowSpacing);
            rows = Math.Max(rows, row);
            Place(operation.Resolve, depth + 1, row);
            Place(operation.Reject, depth + 1, rows + 1);
        }

        Place(entry, 0, 0);
        foreach (var operation in operations.Where(o => !linked.Contains(o.Id)))
            Place(operation.Id, 0, positions.Count == 0 ? 0 : rows + 1);
        var parked = 0; // only operations on a cycle are left, and validation refuses cycles; kept so nothing is unplaced
        foreach (var operation in operations.Where(o => !positions.ContainsKey(o.Id)))
            positions[operation.Id] = (OriginX + parked++ * ColumnSpacing, OriginY + (rows + 1) * RowSpacing);

        var changed = false;
        foreach (var operation in operations)
        {
            var (x, y) = positions[operation.Id];
            if (operation.PositionX == x && operation.PositionY == y) continue;
            (operation.PositionX, operation.PositionY, changed) = (x, y, true);
        }
        return changed;
    }
}
