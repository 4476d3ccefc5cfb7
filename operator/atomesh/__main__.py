from atomesh.cli import main

raise SystemExit(main())
