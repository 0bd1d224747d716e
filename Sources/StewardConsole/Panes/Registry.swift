/// How to add a pane: make a folder `Panes/NAME/` with a struct conforming to `Pane` (or to
/// `ListPane`, which brings the usual update, click and draw for lists over the snapshot). Give it
/// `init()`, `title`, `filter`, `draw`, `clamp`, `resetSelection` and `selectedID`; add `keys` for
/// the keys only it has (help and the footer read them), `update` for what they do, and `refresh`
/// with a `PaneQuery` when it needs its own read of the catalog at each refresh (the result comes
/// back in `snapshot.paneData(_:for:)`). In the same folder, `extension PaneID { static let name =
/// PaneID(NAMEPane.self) }` and `extension AppState { var name: NAMEPane { get { self[NAMEPane.self] }
/// set { self[NAMEPane.self] = newValue } } }` if other code wants it by name. Then add the type to
/// `PaneRegistry.all` below: its place there is its tab and its number key. Nothing else changes.
public enum PaneRegistry {
    /// The panes in tab order.
    public static let all: [any Pane.Type] = [
        SourcesPane.self,
        QualityPane.self,
        RunsPane.self,
        SLAPane.self,
        RoadmapPane.self,
        CustomersPane.self,
        AudiencesPane.self,
    ]
}
