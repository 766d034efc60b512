LoadCommand.main()
