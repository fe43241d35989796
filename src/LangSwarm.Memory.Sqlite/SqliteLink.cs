using Microsoft.Data.Sqlite;

namespace LangSwarm.Memory.Sqlite;

/// <summary>
/// One open connection with its commands kept for reuse: a command keeps its prepared statement, so a statement
/// text is compiled once per connection. A link is used by one caller at a time.
/// </summary>
internal sealed class SqliteLink : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    public SqliteLink(SqliteConnection connection, string journalMode)
    {
        Connection = connection;
        JournalMode = journalMode;
    }

    /// <summary>The connection.</summary>
    public SqliteConnection Connection { get; }

    /// <summary>The journal mode in effect on this connection (<c>wal</c>, <c>delete</c>, <c>memory</c>).</summary>
    public string JournalMode { get; }

    /// <summary>The cached command for a statement, with no parameters, enlisted in <paramref name="transaction"/>.</summary>
    public SqliteCommand Command(string sql, SqliteTransaction? transaction = null)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
            _commands.Add(sql, command);
        }
        command.Transaction = transaction;
        command.Parameters.Clear();
        return command;
    }

    /// <summary>Runs a statement without parameters or results (pragmas, VACUUM).</summary>
    public void Execute(string sql)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>The first column of the first row of a cached statement's result, as a long (0 for NULL).</summary>
    public static long ScalarInt64(SqliteCommand command) => command.ExecuteScalar() is { } v and not DBNull ? Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture) : 0;

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }
        _commands.Clear();
        Connection.Dispose();
    }
}
